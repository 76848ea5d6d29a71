"""05's data pipeline (its locked ``data`` cell): the IDX reader, the download and the offline fallback.

The cell runs here as it does in a student's kernel. Every file is one the tests
write; downloads come from ``file://`` mirrors in a temporary folder, so nothing
here touches the network.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import urllib.request

import nbformat
import pytest
import torch

from autograder.cases import test_05_lenet as cases
from tests.support import ASSIGNMENTS

NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz"]


@pytest.fixture
def data():
    """A fresh namespace with the release's setup and data cells run in it."""
    notebook = nbformat.read(ASSIGNMENTS / "05_lenet" / "05_lenet.ipynb", as_version=4)
    cells = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source for cell in notebook.cells}
    space: dict = {"__name__": "__notebook__"}
    for grade_id in ("setup", "data"):
        exec(compile(cells[grade_id], f"<{grade_id}>", "exec"), space)  # noqa: S102 - the course's own cells
    return space


def idx_bytes(values: torch.Tensor, code: int = 0x08, fmt: str = ">u1") -> bytes:
    import numpy as np

    header = bytes([0, 0, code, values.dim()]) + struct.pack(f">{values.dim()}I", *values.shape)
    return header + values.numpy().astype(np.dtype(fmt)).tobytes()


def fashion_files(folder, train=12, test=5, gz=True):
    """Four small IDX files in Fashion-MNIST's names: (train images, labels, test images, labels) as written."""
    folder.mkdir(parents=True, exist_ok=True)
    generator = torch.Generator().manual_seed(3)
    tensors = [torch.randint(0, 256, (train, 28, 28), generator=generator), torch.randint(0, 10, (train,)),
               torch.randint(0, 256, (test, 28, 28), generator=generator), torch.randint(0, 10, (test,))]
    for name, tensor in zip(NAMES, tensors):
        raw = idx_bytes(tensor)
        if gz:
            (folder / name).write_bytes(gzip.compress(raw))
        else:
            (folder / name.removesuffix(".gz")).write_bytes(raw)
    return tensors


# -- read_idx --------------------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_reads_images_and_labels_gzipped_or_not(data, tmp_path, gz):
    images = torch.randint(0, 256, (4, 3, 5))
    labels = torch.tensor([3, 0, 9, 1])
    for name, tensor in [("images", images), ("labels", labels)]:
        raw = idx_bytes(tensor)
        path = tmp_path / (f"{name}.gz" if gz else name)
        path.write_bytes(gzip.compress(raw) if gz else raw)
        got = data["read_idx"](path)
        assert got.dtype == torch.uint8 and torch.equal(got.long(), tensor)


def test_read_idx_reads_big_endian_integers_and_floats(data, tmp_path):
    values = torch.tensor([[-70000, 1], [2, 123456]])
    (tmp_path / "ints").write_bytes(idx_bytes(values, 0x0C, ">i4"))
    assert torch.equal(data["read_idx"](tmp_path / "ints"), values.int())
    floats = torch.tensor([1.5, -2.25, 1e-3], dtype=torch.float64)
    (tmp_path / "floats").write_bytes(idx_bytes(floats, 0x0E, ">f8"))
    assert torch.equal(data["read_idx"](tmp_path / "floats"), floats)


@pytest.mark.parametrize("damage, message", [
    (lambda raw: b"\x1f\x8b" + raw[2:], "not an IDX file"),              # wrong magic
    (lambda raw: raw[:3], "not an IDX file"),                             # shorter than the magic
    (lambda raw: raw[:9], "truncated: 3 dimensions need a 16-byte header"),
    (lambda raw: raw[:-7], "truncated: (2, 4, 5) values of type uint8 make 56 bytes; the file has 49"),
    (lambda raw: raw + b"\x00", "longer than its header says"),
    (lambda raw: raw[:2] + b"\x07" + raw[3:], "not an IDX file"),        # unknown type code
])
def test_read_idx_says_what_is_wrong_with_a_damaged_file(data, tmp_path, damage, message):
    path = tmp_path / "damaged"
    path.write_bytes(damage(idx_bytes(torch.randint(0, 256, (2, 4, 5)))))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        data["read_idx"](path)


def test_read_idx_on_a_cut_short_gzip_says_it_cannot_be_read(data, tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(torch.arange(50)))[:20])
    with pytest.raises(ValueError, match="labels.gz: cannot be read"):
        data["read_idx"](path)


# -- load_data ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["gzipped", "plain", "torchvision"])
def test_load_data_uses_fashion_mnist_files_under_root(data, tmp_path, capsys, layout):
    folder = tmp_path / "FashionMNIST" / "raw" if layout == "torchvision" else tmp_path
    train_x, train_y, test_x, test_y = fashion_files(folder, gz=layout != "plain")
    train_iter, test_iter = data["load_data"](5, root=tmp_path, download=False)
    assert "Fashion-MNIST from" in capsys.readouterr().out
    X, y = next(iter(test_iter))
    assert X.shape == (5, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.equal(X, test_x[:5, None].float() / 255) and torch.equal(y, test_y[:5])
    assert sum(len(y) for _, y in train_iter) == 12 and len(train_iter) == 3     # batches of 5, 5 and 2
    everything = torch.cat([x for x, _ in train_iter])
    assert torch.equal(everything.sum(), (train_x.float() / 255).sum()) and 0 <= everything.min() <= 1
    assert train_iter.dataset.name == "Fashion-MNIST" and train_iter.dataset.classes[9] == "Ankle boot"


def test_offline_load_data_falls_back_to_the_digits_and_says_why(data, tmp_path, capsys, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("load_data tried the network although CNN_COURSE_OFFLINE is set")

    monkeypatch.setenv("CNN_COURSE_OFFLINE", "1")
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    train_iter, test_iter = data["load_data"](64, root=tmp_path / "nothing-here")
    out = capsys.readouterr().out
    assert "$CNN_COURSE_OFFLINE is set" in out and "handwritten digits" in out and "1,437 training" in out
    assert len(train_iter.dataset) == 1437 and len(test_iter.dataset) == 360
    X, y = next(iter(test_iter))
    assert X.shape == (64, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert float(X.min()) >= 0 and float(X.max()) <= 1 and float(X[:, :, :4].abs().sum()) == 0   # a 4-pixel frame
    assert test_iter.dataset.classes == [str(d) for d in range(10)]
    data["load_data"](64, root=tmp_path, download=False)
    assert "download=False" in capsys.readouterr().out


def test_the_offline_set_is_the_one_the_hidden_cases_train_on(data):
    (train_x, train_y), (test_x, test_y) = data["digits_28x28"]()
    (ref_train_x, ref_train_y), (ref_test_x, ref_test_y) = cases.digits()
    assert torch.equal(train_x, ref_train_x) and torch.equal(train_y, ref_train_y)
    assert torch.equal(test_x, ref_test_x) and torch.equal(test_y, ref_test_y)
    assert sorted(set(test_y.tolist())) == list(range(10))


# -- download ---------------------------------------------------------------------------------------------

def mirror_of(data, folder, monkeypatch):
    """A file:// mirror with small Fashion-MNIST files, whose MD5s replace the real ones."""
    written = fashion_files(folder)
    monkeypatch.setitem(data, "FASHION_MNIST_FILES",
                        {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in NAMES})
    return folder.as_uri() + "/", written


def test_load_data_downloads_missing_files_and_checks_them(data, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CNN_COURSE_OFFLINE", raising=False)
    url, (_, _, test_x, _) = mirror_of(data, tmp_path / "mirror", monkeypatch)
    monkeypatch.setitem(data, "FASHION_MNIST_MIRRORS", [(tmp_path / "empty").as_uri() + "/", url])
    root = tmp_path / "data"
    (root).mkdir()
    (root / NAMES[0]).write_bytes((tmp_path / "mirror" / NAMES[0]).read_bytes())    # one file already there
    _, test_iter = data["load_data"](5, root=root)
    assert "Fashion-MNIST from" in capsys.readouterr().out
    assert sorted(p.name for p in root.iterdir()) == sorted(NAMES)                    # no .part left behind
    assert torch.equal(next(iter(test_iter))[0], test_x[:5, None].float() / 255)


def test_a_damaged_download_is_removed_and_the_digits_are_used(data, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CNN_COURSE_OFFLINE", raising=False)
    url, _ = mirror_of(data, tmp_path / "mirror", monkeypatch)
    monkeypatch.setitem(data["FASHION_MNIST_FILES"], NAMES[2], "0" * 32)
    monkeypatch.setitem(data, "FASHION_MNIST_MIRRORS", [url])
    root = tmp_path / "data"
    with pytest.raises(OSError, match="t10k-images-idx3-ubyte.gz: the file arrived damaged"):
        data["download_fashion_mnist"](root)
    assert not (root / NAMES[2]).exists() and not list(root.glob("*.part"))
    train_iter, _ = data["load_data"](5, root=root)
    out = capsys.readouterr().out
    assert "the download failed" in out and "wrong MD5" in out and "handwritten digits" in out
    assert len(train_iter.dataset) == 1437


def test_a_download_that_gets_nothing_leaves_no_folder_it_made(data, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CNN_COURSE_OFFLINE", raising=False)
    monkeypatch.setitem(data, "FASHION_MNIST_MIRRORS", [(tmp_path / "empty").as_uri() + "/"])
    _, test_iter = data["load_data"](5, root=tmp_path / "data" / "fashion")
    assert "using scikit-learn's handwritten digits" in capsys.readouterr().out
    assert not (tmp_path / "data").exists(), "the offline fallback left the folders it made"
    kept = tmp_path / "mine"
    kept.mkdir()
    with pytest.raises(OSError):
        data["download_fashion_mnist"](kept)
    assert kept.is_dir(), "a folder that was there before stays"


def test_outside_jupyter_the_progress_bar_prints_each_epochs_line(data, capsys):
    notebook = nbformat.read(ASSIGNMENTS / "05_lenet" / "05_lenet.ipynb", as_version=4)
    source = next(cell.source for cell in notebook.cells if cell.source.startswith("def progress_bar("))
    exec(compile(source, "<progress>", "exec"), data)  # noqa: S102 - the course's own cell
    for epoch in (1, 2):
        assert list(data["progress_bar"](range(4), f"epoch {epoch}/2")) == [0, 1, 2, 3]
    assert list(data["progress_bar"](range(3), "off", enabled=False)) == [0, 1, 2]
    lines = capsys.readouterr().out.split("\n")
    assert [line.rsplit("\r", 1)[-1].split(" [")[0] for line in lines[:2]] == \
        ["epoch 1/2: 4/4 minibatches", "epoch 2/2: 4/4 minibatches"]
