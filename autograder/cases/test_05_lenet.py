"""Hidden cases of 05_lenet. Instructor material: never shipped to students.

Nets are built in the worker by the notebook's ``probe_net`` (or by the
student's ``lenet``); the judge reads their weights back as data
(``state_dict``), rebuilds the same net here, loads the weights by position
(layer names are the student's own) and computes every expected value with
trusted code. Training is replayed: from the weights the student's
net starts with and the very minibatches it is given, the reference ``train``
below must reach the same history and weights. The trained-model check trains
the student's ``lenet()`` with the student's ``train`` on the digits of the
notebook's offline set, takes the trained weights back and measures them here,
on held-out digits the worker never sees, against the reference trained from
the same starting weights on the same minibatches.
"""

import functools
import importlib.util
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder.cases.common import rng
from autograder.grading.declarations import Assignment
from autograder.grading.rules import ItemRule
from autograder.judge import expect, speed
from autograder.judge.expect import fail
from autograder.sandbox import process as sandbox

LAYERS_AND_AUTOGRAD = ItemRule(allow=frozenset({"convolution", "pooling", "autograd"}))
ITEMS = ["lenet", "layer_shapes", "count_parameters", "evaluate_accuracy", "train", "feature_maps"]
ASSIGNMENT = Assignment("05_lenet", ITEMS, rules=dict.fromkeys(ITEMS, LAYERS_AND_AUTOGRAD))
item = ASSIGNMENT.item

# LeNet-5 of the lecture notes, as (torch.nn layer, keyword arguments): what probe_net builds.
LENET = [("Conv2d", {"in_channels": 1, "out_channels": 6, "kernel_size": 5, "padding": 2}), ("Sigmoid", {}),
         ("AvgPool2d", {"kernel_size": 2, "stride": 2}),
         ("Conv2d", {"in_channels": 6, "out_channels": 16, "kernel_size": 5}), ("Sigmoid", {}),
         ("AvgPool2d", {"kernel_size": 2, "stride": 2}), ("Flatten", {}),
         ("Linear", {"in_features": 400, "out_features": 120}), ("Sigmoid", {}),
         ("Linear", {"in_features": 120, "out_features": 84}), ("Sigmoid", {}),
         ("Linear", {"in_features": 84, "out_features": 10})]
LENET_PARAMETERS = 61_706
# Nets of other kinds, for the functions that take any Sequential: (layers, input shape without the batch axis).
PROBES = {
    "strided": ([("Conv2d", {"in_channels": 2, "out_channels": 5, "kernel_size": (3, 2), "stride": (2, 1),
                             "padding": 1}), ("ReLU", {}), ("MaxPool2d", {"kernel_size": 2}), ("Flatten", {}),
                 ("Linear", {"in_features": 5 * 3 * 4, "out_features": 7})], (2, 11, 7)),
    "batchnorm": ([("Conv2d", {"in_channels": 1, "out_channels": 4, "kernel_size": 3}), ("BatchNorm2d",
                   {"num_features": 4}), ("ReLU", {}), ("AdaptiveAvgPool2d", {"output_size": 2}), ("Flatten", {}),
                   ("Linear", {"in_features": 16, "out_features": 6}), ("BatchNorm1d", {"num_features": 6}),
                   ("Linear", {"in_features": 6, "out_features": 3})], (1, 8, 7)),
    "dropout": ([("Flatten", {}), ("Linear", {"in_features": 36, "out_features": 24}), ("ReLU", {}),
                 ("Dropout", {"p": 0.5}), ("Linear", {"in_features": 24, "out_features": 4})], (1, 6, 6)),
    "shared": ([("Flatten", {}), ("Linear", {"in_features": 16, "out_features": 16}), ("Tanh", {}), 1, ("Tanh", {}),
                ("Linear", {"in_features": 16, "out_features": 5})], (1, 4, 4)),
}
# The trained-model check: epochs, learning rate and minibatch size of the notebook's training run, and how far
# below the reference (trained from the same weights on the same minibatches) a student's accuracy may fall.
TRAINING = {"epochs": 10, "lr": 0.002, "batch_size": 32}
ACCURACY_MARGIN = 0.05


# -- trusted references ----------------------------------------------------------------------

def build(layers) -> nn.Sequential:
    modules = []
    for layer in layers:
        modules.append(modules[layer] if isinstance(layer, int) else getattr(nn, layer[0])(**layer[1]))
    return nn.Sequential(*modules)


def copy_of(student, layers, net, who: str = "the net") -> nn.Sequential:
    """The reference net ``layers`` with the weights (and buffers) of the student's ``net``."""
    ours = build(layers)
    ours.load_state_dict(matched_state(student, layers, net, who))
    return ours


def state_of(student, net) -> dict:
    state = net.state_dict()
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        fail("net.state_dict() did not return a dict of tensors")
    return {name: value.detach().clone() for name, value in state.items()}


def matched_state(student, layers, net, who: str = "the net") -> dict:
    """The student's weights and buffers under the names of the reference net ``layers``, matched by position.

    Both ``state_dict``s list their tensors layer by layer, in the order of the Sequential, so a net may name its
    layers as it likes (an ``OrderedDict``): what counts is the order and the shapes. ``who`` names the student's
    net in the failure messages.
    """
    theirs = list(state_of(student, net).items())
    ours = list(build(layers).state_dict().items())
    reference = "LeNet-5" if layers is LENET else "the reference net"
    if len(theirs) != len(ours):
        which = ", a weight and a bias per Conv2d and Linear layer" if layers is LENET else ""
        fail(f"{who}'s parameters are not {reference}'s: its state_dict() holds {len(theirs)} tensors "
             f"({_tensor_list(theirs)}); {reference}'s holds {len(ours)}{which}, in this order: "
             f"{_layer_list(ours, layers)}")
    for position, ((name, value), (our_name, our_value)) in enumerate(zip(theirs, ours)):
        if value.shape != our_value.shape:
            fail(f"{who}'s parameters are not {reference}'s: its parameter {position} ({name}) has shape "
                 f"{tuple(value.shape)}; parameter {position} of {reference}, {_tensor_role(our_name, layers)}, "
                 f"has shape {tuple(our_value.shape)}")
    return {our_name: value for (_, value), (our_name, _) in zip(theirs, ours)}


def _tensor_list(state: list) -> str:
    return ", ".join(f"{name} {tuple(value.shape)}" for name, value in state)


def _layer_list(state: list, layers) -> str:
    """'layer 0 (Conv2d): weight (6, 1, 5, 5), bias (6,); layer 3 ...' for the reference's state."""
    groups: dict[str, list[str]] = {}
    for name, value in state:
        index, _, kind = name.partition(".")
        groups.setdefault(index, []).append(f"{kind} {tuple(value.shape)}")
    return "; ".join(f"layer {index} ({_layer_kind(layers, int(index))}): {', '.join(tensors)}"
                     for index, tensors in groups.items())


def _layer_kind(layers, index: int) -> str:
    layer = layers[index]
    return (layers[layer] if isinstance(layer, int) else layer)[0]


def _tensor_role(name: str, layers) -> str:
    """'the weight of layer 3 (Conv2d)' for the reference's '3.weight'."""
    index, _, kind = name.partition(".")
    return f"the {kind} of layer {index} ({_layer_kind(layers, int(index))})"


def ref_layer_shapes(net, input_shape):
    x, shapes = torch.zeros(input_shape), []
    net.eval()
    with torch.no_grad():
        for layer in net:
            x = layer(x)
            shapes.append((type(layer).__name__, tuple(x.shape)))
    return shapes


def ref_accuracy(net, batches, device="cpu"):
    net.eval()
    with torch.no_grad():
        right = sum(int((net(X.to(device)).argmax(1) == y.to(device)).sum()) for X, y in batches)
    return right / sum(len(y) for _, y in batches)


def ref_train(net, train_batches, test_batches, epochs, lr, device="cpu"):
    net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for _ in range(epochs):
        net.train()
        total, right, count = 0.0, 0, 0
        for X, y in train_batches:
            X, y = X.to(device), y.to(device)
            scores = net(X)
            loss = F.cross_entropy(scores, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            right += int((scores.argmax(1) == y).sum())
            count += len(y)
        history["train_loss"].append(total / count)
        history["train_acc"].append(right / count)
        history["test_acc"].append(ref_accuracy(net, test_batches, device))
    return history


@functools.cache
def digits():
    """The notebook's offline set (its ``digits_28x28``): ((train images, labels), (test images, labels)).

    Read from the file scikit-learn ships (what its ``load_digits`` reads) without importing scikit-learn,
    which would cost the judge a second.
    """
    import numpy as np

    table = np.loadtxt(Path(importlib.util.find_spec("sklearn").origin).parent / "datasets/data/digits.csv.gz",
                       delimiter=",")
    images = torch.tensor(table[:, :-1].reshape(-1, 1, 8, 8), dtype=torch.float32) / 16
    images = F.pad(F.interpolate(images, size=(20, 20), mode="bilinear", align_corners=False), (4, 4, 4, 4))
    labels = torch.tensor(table[:, -1], dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    cut = int(0.8 * len(labels))
    return (images[order[:cut]], labels[order[:cut]]), (images[order[cut:]], labels[order[cut:]])


# -- inputs and helpers ----------------------------------------------------------------------------

def batches_of(X, y, size):
    return [(X[i:i + size], y[i:i + size]) for i in range(0, len(y), size)]


def uneven_batches(count, shape, classes, size):
    """Random images with random labels, in minibatches of ``size`` (the last one smaller unless it divides)."""
    X = torch.randn(count, *shape)
    y = torch.randint(0, classes, (count,))
    return batches_of(X, y, size)


def probe(student, name):
    layers, shape = PROBES[name]
    return student.probe_net(layers), layers, shape


def layers_of(net) -> list:
    modules = net._modules
    if not isinstance(modules, dict):
        fail("the net's layers could not be read (is it an nn.Sequential?)")
    return list(modules.values())


def short_type(student, obj) -> str:
    return student.type_names(obj)[0].rsplit(".", 1)[-1]


def mode_of(student, net) -> list[bool]:
    return [bool(layer.training) for layer in layers_of(net)] + [bool(net.training)]


def student_lenet(student):
    net = student.lenet()
    if "torch.nn.modules.container.Sequential" not in student.type_names(net):
        fail(f"lenet() returned {short_type(student, net)}; it should return a torch.nn.Sequential")
    return net


def lenet_matches(student, net) -> bool:
    """Whether the student's net has LeNet's parameters and computes what LeNet computes with them."""
    try:
        ours = copy_of(student, LENET, net)
        x = torch.rand(3, 1, 28, 28)
        with torch.no_grad():
            return torch.allclose(net(x), ours(x), atol=1e-5, rtol=1e-4)
    except Exception:  # noqa: BLE001 - any mismatch (keys, shapes, a failing call) means "not LeNet"
        return False


# -- lenet ----------------------------------------------------------------------------------------------

def _setting_words(settings: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in settings.items())


def size_settings(layer, keys) -> dict:
    """The settings ``keys`` of a layer, its sizes in one form: kernel_size, stride and padding as (h, w) pairs
    (an int n is (n, n)), a pooling stride left out as the window's size, padding "valid" as (0, 0) and "same" as
    the padding per side it stands for (it stays "same" where the two sides differ).

    The release's setup cell has the same function, for the public check (``tests/test_cases.py`` holds them
    to it).
    """
    def two(value):
        value = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
        return value * 2 if len(value) == 1 else value

    settings = {key: getattr(layer, key) for key in keys}
    for key in ("kernel_size", "stride", "padding"):
        if key not in settings:
            continue
        value = settings[key]
        if key == "stride" and value in (None, (), []):
            value = layer.kernel_size
        elif key == "padding" and value == "valid":
            value = 0
        elif key == "padding" and value == "same":
            spans = [d * (k - 1) for d, k in zip(two(getattr(layer, "dilation", 1)), two(layer.kernel_size))]
            value = tuple(span // 2 for span in spans) if all(span % 2 == 0 for span in spans) else "same"
        settings[key] = value if value == "same" else two(value)
    return settings


LAYER_HINTS = {
    "Sigmoid": "LeNet-5 of the lecture notes uses sigmoid activations (ReLU came later, with AlexNet)",
    "AvgPool2d": "LeNet-5 pools by averaging 2x2 windows with stride 2 (max pooling came later)",
    "Flatten": "the maps are flattened into one vector of 400 before the fully connected layers",
}


@item("lenet", weight=2)
def test_lenet_layers_and_settings(student):
    """Twelve layers in LeNet-5's order, each of the right kind with the right sizes, padding and stride"""
    layers = layers_of(student_lenet(student))
    reference = list(build(LENET))
    names = [short_type(student, layer) for layer in layers]
    if len(layers) != len(reference):
        fail(f"lenet() has {len(layers)} layers ({', '.join(names)}); LeNet-5 as one Sequential has 12: two blocks "
             "of Conv2d, Sigmoid, AvgPool2d, then Flatten and three Linear layers with a Sigmoid after the first two")
    keys = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "in_features", "out_features")
    for index, (layer, ours) in enumerate(zip(layers, reference)):
        want = type(ours).__name__
        if names[index] != want:
            hint = LAYER_HINTS.get(want, "")
            fail(f"layer {index} of lenet() is {names[index]}; LeNet-5 has {want} there"
                 + (f": {hint}" if hint else ""))
        expected = size_settings(ours, [key for key in keys if hasattr(ours, key)])
        got = size_settings(layer, list(expected))
        if got != expected:
            wrong = {key: got[key] for key in expected if got[key] != expected[key]}
            why = (": the first convolution pads by 2, so that a 28x28 image keeps its size"
                   if index == 0 and "padding" in wrong else "")
            fail(f"layer {index} ({want}) of lenet() has {_setting_words(wrong)}; "
                 f"LeNet-5 needs {_setting_words({key: expected[key] for key in wrong})}{why}")


@item("lenet", weight=2)
def test_lenet_computes_lenet(student):
    """With its own weights, lenet() computes what LeNet-5 computes, for batches of 1 and 5 images"""
    net = student_lenet(student)
    ours = copy_of(student, LENET, net, "lenet()")
    for batch in (1, 5):
        x = torch.rand(batch, 1, 28, 28)
        with torch.no_grad():
            expected = ours(x)
        expect.close(f"lenet()(x) for x of shape {(batch, 1, 28, 28)}", net(x), expected, atol=1e-5, rtol=1e-4)


@item("lenet")
def test_lenet_parameter_count_and_new_networks(student):
    """61,706 parameters; each call returns a new network with fresh weights (training one leaves another alone)"""
    first, second = student_lenet(student), student_lenet(student)
    one = state_of(student, first)
    total = sum(value.numel() for value in one.values())
    if total != LENET_PARAMETERS:
        fail(f"lenet() has {total:,} parameters; LeNet-5 has 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706")
    two = state_of(student, second)
    if all(torch.equal(value, two[name]) for name, value in one.items() if name.endswith("weight")):
        fail("two calls of lenet() gave the same weights: each call should start from fresh random weights "
             "(do not seed inside lenet)")
    first.load_state_dict({name: torch.full_like(value, 0.5) for name, value in one.items()})
    if all(torch.equal(value, torch.full_like(value, 0.5)) for value in state_of(student, second).values()):
        fail("changing the weights of one lenet() changed another's: build a new network in every call")


# -- layer_shapes and count_parameters --------------------------------------------------------------------

@item("layer_shapes", weight=2)
def test_layer_shapes_of_lenet_and_other_nets(student):
    """The class name and output shape of every layer, for LeNet-5 and nets of other kinds and batch sizes"""
    r = rng()
    nets = [(student.probe_net(LENET), LENET, (1, 28, 28))] + [probe(student, name) for name in ("strided", "dropout")]
    for net, layers, shape in nets:
        input_shape = (r.randint(1, 6), *shape)
        call = f"layer_shapes(<{len(layers)}-layer net>, {expect.shown(input_shape)})"
        expect.equal(call, student.layer_shapes(net, input_shape), ref_layer_shapes(build(layers), input_shape))


@item("layer_shapes")
def test_layer_shapes_in_the_nets_dtype(student):
    """The zeros are made in the dtype of the net's parameters: a float64 net works"""
    net, layers, shape = probe(student, "strided")
    net.double()
    input_shape = (2, *shape)
    expect.equal(f"layer_shapes(<{len(layers)}-layer float64 net>, {expect.shown(input_shape)})",
                 student.layer_shapes(net, input_shape), ref_layer_shapes(build(layers), input_shape))


@item("layer_shapes")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_layer_shapes_on_cuda(student):
    """The zeros are made on the net's device: a net on CUDA works"""
    net, layers, shape = probe(student, "strided")
    net.to("cuda")
    input_shape = (2, *shape)
    expect.equal(f"layer_shapes(<{len(layers)}-layer net on cuda>, {expect.shown(input_shape)})",
                 student.layer_shapes(net, input_shape), ref_layer_shapes(build(layers), input_shape))


@item("layer_shapes")
def test_layer_shapes_leaves_the_net_alone(student):
    """With batch normalisation in training mode a batch of one works; the net is left as it was, in either mode"""
    net, layers, shape = probe(student, "batchnorm")
    net.train()
    before = state_of(student, net)
    call = f"layer_shapes(<net with BatchNorm, in training mode>, {expect.shown((1, *shape))})"
    expect.equal(call, student.layer_shapes(net, (1, *shape)), ref_layer_shapes(build(layers), (1, *shape)))
    after = state_of(student, net)
    changed = [name for name in before if not torch.equal(before[name], after[name])]
    if changed:
        fail(f"{call} changed the net: {', '.join(changed)} (run the layers in evaluation mode, without gradients)")
    if not all(mode_of(student, net)):
        fail(f"after {call} the net is no longer in training mode: give it back the mode it had")
    net.eval()
    student.layer_shapes(net, (1, *shape))
    if any(mode_of(student, net)):
        fail("after layer_shapes(<net in evaluation mode>, ...) the net is in training mode: give it back the mode "
             "it had")


@item("count_parameters")
def test_count_parameters_of_many_nets(student):
    """Every weight and bias, for LeNet-5 and other nets; an int"""
    others = [probe(student, name) for name in PROBES if name != "shared"]
    for net, layers, _ in [(student.probe_net(LENET), LENET, None), *others]:
        expected = sum(p.numel() for p in build(layers).parameters())
        expect.equal(f"count_parameters(<{len(layers)}-layer net>)", student.count_parameters(net), expected)


@item("count_parameters")
def test_count_parameters_shared_and_frozen(student):
    """A layer used twice counts once; frozen parameters (requires_grad=False) count too"""
    net, layers, _ = probe(student, "shared")
    expected = sum(p.numel() for p in build(layers).parameters())
    expect.equal("count_parameters(<net whose layer 1 appears twice>)", student.count_parameters(net), expected)
    net, layers, _ = probe(student, "strided")
    layers_of(net)[0].requires_grad_(False)
    expected = sum(p.numel() for p in build(layers).parameters())
    expect.equal("count_parameters(<net whose first layer is frozen>)", student.count_parameters(net), expected)


# -- evaluate_accuracy ------------------------------------------------------------------------------------

def _accuracy_case(student, name, size, mode):
    net, layers, shape = probe(student, name)
    (net.train if mode == "train" else net.eval)()
    ours = copy_of(student, layers, net)
    classes = layers[-1][1]["out_features"]
    count = size * rng().randint(2, 4) + rng().randint(1, size - 1)
    batches = uneven_batches(count, shape, classes, size)
    call = (f"evaluate_accuracy(<net in {mode} mode>, {len(batches)} batches of {size} "
            f"(the last of {len(batches[-1][1])}))")
    record = student.record("evaluate_accuracy", net, batches)
    got = record.value
    if not isinstance(got, float):
        fail(f"{call} returned {type(got).__name__}; expected a Python float")
    expected = ref_accuracy(ours, batches)
    if abs(got - expected) > 1e-9:
        per_batch = sum(ref_accuracy(ours, [b]) for b in batches) / len(batches)
        hint = (" (that is the mean of the batches' accuracies: count right answers and examples over all batches)"
                if abs(got - per_batch) < 1e-9 else
                " (in training mode, dropout changes the predictions: evaluate in evaluation mode)"
                if mode == "train" else "")
        fail(f"{call} returned {got:.4f}; that is not the fraction of all examples classified right{hint}")
    expect.unchanged(record)
    if mode_of(student, net) != [mode == "train"] * (len(layers) + 1):
        fail(f"after {call} the net's train/eval mode changed: give it back the mode it had")


@item("evaluate_accuracy", weight=2)
def test_evaluate_accuracy_counts_every_example(student):
    """Right answers over all examples, with an uneven last batch, for nets in evaluation mode"""
    _accuracy_case(student, "strided", 5, "eval")
    _accuracy_case(student, "shared", 7, "eval")


@item("evaluate_accuracy", weight=2)
def test_evaluate_accuracy_in_evaluation_mode(student):
    """A net with dropout, in training mode: evaluated in evaluation mode, and its mode given back"""
    _accuracy_case(student, "dropout", 6, "train")


@item("evaluate_accuracy")
def test_evaluate_accuracy_on_a_dataloader(student):
    """A DataLoader serves as data_iter as well as a list of pairs does (the notebook's own data are DataLoaders)"""
    net, layers, shape = probe(student, "strided")
    ours = copy_of(student, layers, net)
    X, y = torch.randn(23, *shape), torch.randint(0, 7, (23,))
    loader = student.DataLoader(student.TensorDataset(X, y), batch_size=5)
    call = "evaluate_accuracy(net, DataLoader(TensorDataset(X (23, ...), y), batch_size=5))"
    got = student.evaluate_accuracy(net, loader)
    expected = ref_accuracy(ours, batches_of(X, y, 5))
    if not isinstance(got, float) or abs(got - expected) > 1e-9:
        fail(f"{call} returned {got!r}; that is not the fraction of its 23 examples classified right (iterate over "
             "data_iter with a for loop: a DataLoader has no indices)")


@item("evaluate_accuracy")
def test_evaluate_accuracy_without_examples(student):
    """No examples raise ValueError"""
    net, _, _ = probe(student, "strided")
    expect.raises("evaluate_accuracy(net, [])", lambda: student.call("evaluate_accuracy", net, []))


@item("evaluate_accuracy")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_evaluate_accuracy_on_cuda(student):
    """On a net on CUDA, CPU batches are moved to the net's device"""
    net, layers, shape = probe(student, "strided")
    ours = copy_of(student, layers, net)
    net.to("cuda")
    batches = uneven_batches(23, shape, 7, 8)
    got = student.evaluate_accuracy(net, batches)
    if not isinstance(got, float) or abs(got - ref_accuracy(ours, batches)) > 1e-9:
        fail(f"evaluate_accuracy(<net on cuda>, 3 CPU batches) returned {got!r}; not the right fraction")


# -- train ----------------------------------------------------------------------------------------------------

def _compare_history(call, got, expected, atol):
    if not isinstance(got, dict) or sorted(got) != sorted(expected):
        keys = sorted(got) if isinstance(got, dict) else type(got).__name__
        fail(f"{call} returned {keys}; expected a dict with the keys 'train_loss', 'train_acc' and 'test_acc'")
    for key, want in expected.items():
        values = got[key]
        if not isinstance(values, list) or len(values) != len(want) or not all(isinstance(v, float) for v in values):
            fail(f"{call}: history[{key!r}] should be a list of {len(want)} Python floats, one per epoch")
        for epoch, (value, reference) in enumerate(zip(values, want)):
            if not math.isclose(value, reference, rel_tol=atol, abs_tol=atol):
                hints = {"train_loss": "the mean loss per example over the epoch: add loss * len(y) per batch and "
                                       "divide by the number of examples",
                         "train_acc": "the fraction of training examples classified right, judged on the scores "
                                      "of each batch's forward pass, before its step",
                         "test_acc": "evaluate_accuracy on test_iter after the epoch"}
                fail(f"{call}: history[{key!r}][{epoch}] is {value:.5f}; from the same starting weights and "
                     f"minibatches, the reference gets {reference:.5f}. {key} is {hints[key]}; the steps are "
                     "torch.optim.Adam(net.parameters(), lr) on nn.CrossEntropyLoss(), created once")


@item("train", weight=2)
def test_train_replays_the_reference(student):
    """From the same weights and minibatches, the history and the trained weights are the reference's"""
    net, layers, shape = probe(student, "strided")
    ours = copy_of(student, layers, net)
    train_batches = uneven_batches(47, shape, 7, 10)
    test_batches = uneven_batches(12, shape, 7, 4)   # even: what it measures does not hang on evaluate_accuracy's
    #                                                   handling of a short batch, graded by its own cases
    epochs, lr = 3, 0.01
    call = f"train(<net>, {len(train_batches)} batches (the last of 7), {len(test_batches)} test batches, " \
           f"epochs={epochs}, lr={lr}, progress=False, plot=False)"
    record = student.record("train", net, train_batches, test_batches, epochs, lr, progress=False, plot=False,
                            timeout=sandbox.TRAINING_SECONDS)
    expected = ref_train(ours, train_batches, test_batches, epochs, lr)
    _compare_history(call, record.value, expected, atol=1e-4)
    after = matched_state(student, layers, net)
    for name, value in ours.state_dict().items():
        expect.close(f"the weight {name} after {call}", after[name], value, atol=1e-4, rtol=1e-3)
    expect.unchanged(record)


@item("train")
def test_train_without_epochs_and_on_the_device(student):
    """epochs=0 trains nothing and returns empty lists; device='cpu' works on a CPU net"""
    net, layers, shape = probe(student, "dropout")
    before = state_of(student, net)
    batches = uneven_batches(9, shape, 4, 4)
    got = student.train(net, batches, batches, 0, 0.1, device="cpu", progress=False, plot=False)
    expect.equal("train(..., epochs=0)", got, {"train_loss": [], "train_acc": [], "test_acc": []})
    after = state_of(student, net)
    if not all(torch.equal(before[name], after[name]) for name in before):
        fail("train(..., epochs=0) changed the net's weights")


@item("train", weight=3)
def test_trained_lenet_reads_held_out_digits(student):
    """The student's train, on the student's lenet(), learns the digits as well as the reference does"""
    (train_x, train_y), (test_x, test_y) = digits()
    order = torch.randperm(len(train_y))
    batches = batches_of(train_x[order], train_y[order], TRAINING["batch_size"])
    check = batches[:4]     # what train's test_acc is measured on: training digits; the test digits stay here
    net = _lenet_or_the_course_one(student)
    ours = copy_of(student, LENET, net, "lenet()")
    where = speed.device()
    epochs, lr = TRAINING["epochs"], TRAINING["lr"]
    call = f"train(lenet(), {len(train_y)} digits in batches of {TRAINING['batch_size']}, epochs={epochs}, lr={lr})"
    history = student.call("train", net, batches, check, epochs, lr, device=str(where), progress=False, plot=False,
                           timeout=sandbox.TRAINING_SECONDS)
    if not isinstance(history, dict):
        fail(f"{call} returned {type(history).__name__}; expected the history dict")
    trained = copy_of(student, LENET, net, "lenet()").to(where)
    got = ref_accuracy(trained, batches_of(test_x, test_y, 256), where)
    ref_train(ours, batches, check, epochs, lr, where)
    reference = ref_accuracy(ours, batches_of(test_x, test_y, 256), where)
    bar = reference - ACCURACY_MARGIN
    if got < bar:
        fail(f"after {call}, the net classifies {got:.1%} of {len(test_y)} held-out digits right; the reference "
             f"train, from the same starting weights on the same minibatches, reaches {reference:.1%}, and the bar "
             f"is {bar:.1%}")


def _lenet_or_the_course_one(student):
    """The student's lenet() when it is LeNet-5; otherwise (graded by lenet's own cases) the course's."""
    try:
        net = student_lenet(student)
        if lenet_matches(student, net):
            return net
    except Exception:  # noqa: BLE001 - a lenet() that fails or is not a Sequential
        pass
    return student.probe_net(LENET)


# -- feature_maps -------------------------------------------------------------------------------------------

@item("feature_maps", weight=2)
def test_feature_maps_of_every_layer(student):
    """The output of net[layer] for layers 0 to the last, and negative indices, on LeNet-5 and another net"""
    r = rng()
    for net, layers, shape in [(student.probe_net(LENET), LENET, (1, 28, 28)), probe(student, "strided")]:
        ours = copy_of(student, layers, net)
        x = torch.rand(r.randint(1, 4), *shape)
        for layer in sorted(r.sample(range(len(layers)), 3)) + [-1, -len(layers)]:
            call = f"feature_maps(<{len(layers)}-layer net>, x {tuple(x.shape)}, {layer})"
            record = student.record("feature_maps", net, x, layer)
            with torch.no_grad():
                expected = ours[: range(len(layers))[layer] + 1](x)
            expect.close(call, record.value, expected, atol=1e-5, rtol=1e-4)
            expect.unchanged(record)


@item("feature_maps")
def test_feature_maps_mode_and_range(student):
    """Dropout is off while the maps are computed; the net gets its mode back (either one); bad indices fail"""
    net, layers, shape = probe(student, "dropout")
    net.train()
    ours = copy_of(student, layers, net).eval()
    x = torch.rand(3, *shape)
    call = "feature_maps(<net with dropout, in training mode>, x, 3)"
    with torch.no_grad():
        expect.close(call, student.feature_maps(net, x, 3), ours[:4](x), atol=1e-5, rtol=1e-4)
    if not all(mode_of(student, net)):
        fail(f"after {call} the net is no longer in training mode: give it back the mode it had")
    net.eval()
    student.feature_maps(net, x, 3)
    if any(mode_of(student, net)):
        fail("after feature_maps(<net in evaluation mode>, x, 3) the net is in training mode: give it back the mode "
             "it had")
    for layer in (len(layers), -len(layers) - 1):
        expect.raises(f"feature_maps(<{len(layers)}-layer net>, x, {layer})",
                      lambda layer=layer: student.call("feature_maps", net, x, layer), "IndexError")


@item("feature_maps")
def test_feature_maps_without_gradients(student):
    """The maps are computed without gradients: the result is not part of an autograd graph"""
    net, layers, shape = probe(student, "strided")
    ours = copy_of(student, layers, net)
    x = torch.rand(2, *shape)
    with torch.no_grad():
        expected = ours[:2](x)
    call = f"feature_maps(<{len(layers)}-layer net>, x {tuple(x.shape)}, 1)"
    out, grads = student.grad("feature_maps", (net, x, 1), wrt=(1,), dout=torch.randn(expected.shape))
    expect.close(call, out, expected, atol=1e-5, rtol=1e-4)
    if grads is not None:
        fail(f"{call} returned a tensor that is part of an autograd graph (it has a grad_fn): run the layers under "
             "torch.no_grad(), as the docstring says; a graph keeps every layer's output alive, which the maps do "
             "not need")


@item("feature_maps")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_feature_maps_on_cuda(student):
    """On a net on CUDA, a CPU batch is moved to the net's device, and so is the result"""
    net, layers, shape = probe(student, "strided")
    ours = copy_of(student, layers, net).to("cuda")
    net.to("cuda")
    x = torch.rand(3, *shape)
    with torch.no_grad():
        expected = ours[:3](x.to("cuda"))
    expect.close(f"feature_maps(<net on cuda>, x {tuple(x.shape)} on the CPU, 2)", student.feature_maps(net, x, 2),
                 expected, atol=1e-5, rtol=1e-4)
