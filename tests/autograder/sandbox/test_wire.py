"""Does the wire carry data faithfully, and refuse everything else with a WireError?"""

from __future__ import annotations

import io
import json
import os
import struct
import threading
import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.sandbox import wire

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


def roundtrip(value, **kwargs):
    blobs: list[bytes] = []
    return wire.decode(json.loads(json.dumps(wire.encode(value, blobs))), blobs, **kwargs)


def frame(header_bytes: bytes, *blobs: bytes) -> bytes:
    return struct.pack("<Q", len(header_bytes)) + header_bytes + b"".join(blobs)


def receive_bytes(data: bytes, deadline: float | None = None):
    read, write = os.pipe()
    try:
        writer = threading.Thread(target=lambda: (os.write(write, data), os.close(write)))
        writer.start()
        try:
            return wire.receive(read, deadline if deadline is not None else time.monotonic() + 5)
        finally:
            writer.join()
    finally:
        os.close(read)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.int32, torch.uint8, torch.bool,
                                   torch.float16, torch.bfloat16, torch.complex64])
def test_tensors_come_back_with_their_dtype_shape_and_values(dtype):
    tensor = (torch.randn(3, 4) * 5).to(dtype)
    back = roundtrip(tensor)
    assert back.dtype == dtype and back.shape == tensor.shape and torch.equal(back, tensor)


def test_python_values_keep_their_types():
    value = {"a": (1, 2.5, None, True), "b": [torch.Size([2, 3]), "text"], "c": torch.float64,
             "d": np.arange(4, dtype=np.int16)}
    back = roundtrip(value)
    assert back["a"] == (1, 2.5, None, True) and type(back["a"]) is tuple
    assert back["b"][0] == (2, 3) and back["c"] is torch.float64
    assert back["d"].dtype == np.int16 and back["d"].tolist() == [0, 1, 2, 3]


def test_parameters_and_requires_grad_are_restored_only_on_request():
    parameter = torch.nn.Parameter(torch.ones(2))
    assert isinstance(roundtrip(parameter, restore_grad=True), torch.nn.Parameter)
    plain = roundtrip(parameter)
    assert not isinstance(plain, torch.nn.Parameter) and not plain.requires_grad


@given(JSON_VALUES)
@settings(max_examples=150, deadline=None)
def test_any_json_value_decodes_to_data_or_a_wire_error(value):
    try:
        decoded = wire.decode(value, [])
    except wire.WireError:
        return
    assert decoded is None or isinstance(decoded, (bool, int, float, str, list, tuple, dict, np.ndarray,
                                                   torch.Tensor, torch.dtype))


@pytest.mark.parametrize("forged", [
    {"__dtype__": "nn"},                                  # a name that is not a dtype
    {"__dtype__": "__class__"},
    {"__tensor__": 0, "dtype": "float32"},                # no such blob
    {"__tensor__": "0", "dtype": "float32"},
    {"__tensor__": 0, "dtype": "Tensor"},
    {"__ref__": 1},                                       # handles only where expected
    {"__float__": 1.5},
    {"__tuple__": "abc"},
    {"__dict__": [1, 2]},
    {"unknown": 1},
    {},
])
def test_forged_values_are_wire_errors(forged):
    with pytest.raises(wire.WireError):
        wire.decode(forged, [])


def test_pickles_and_object_arrays_are_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError):
        wire.decode({"__ndarray__": 0}, [buffer.getvalue()])
    with pytest.raises(wire.WireError):
        wire.decode({"__tensor__": 0, "dtype": "float32"}, [buffer.getvalue()])


def test_a_tensor_whose_payload_disagrees_with_its_dtype_is_refused():
    blobs: list[bytes] = []
    data = wire.encode(torch.arange(3), blobs)   # int64 payload
    data["dtype"] = "float32"
    with pytest.raises(wire.WireError):
        wire.decode(data, blobs)


def test_deep_nesting_is_a_wire_error_not_a_crash():
    value: object = 1
    for _ in range(5000):
        value = {"__tuple__": [value]}
    with pytest.raises(wire.WireError):
        wire.decode(value, [])


def test_messages_cross_a_pipe_intact():
    header, blobs = receive_bytes(frame(json.dumps({"op": "x", "blobs": [3, 0]}).encode(), b"abc"))
    assert header["op"] == "x" and blobs == [b"abc", b""]


@pytest.mark.parametrize("raw, reason", [
    (frame(b"[1, 2]"), "not an object"),
    (frame(b'{"blobs": [null]}'), "blob sizes"),
    (frame(b'{"blobs": [-1]}'), "blob sizes"),
    (frame(b'{"blobs": "3"}'), "blob sizes"),
    (frame(b"\xff\xfe{"), "not valid JSON"),
    (frame(b"[" * 100_000 + b"]" * 100_000), "not valid JSON"),
    (struct.pack("<Q", 1 << 40), "over the limit"),
    (frame(json.dumps({"blobs": [wire.MAX_MESSAGE_BYTES]}).encode()), "over the limit"),
    (frame(b'{"blobs": [10]}', b"short"), "cut short"),
])
def test_malformed_frames_are_wire_errors(raw, reason):
    with pytest.raises(wire.WireError, match=reason):
        receive_bytes(raw)


@given(st.binary(max_size=64))
@settings(max_examples=150, deadline=None)
def test_arbitrary_bytes_never_escape_as_another_error(raw):
    try:
        receive_bytes(raw)
    except (wire.WireError, EOFError):
        pass


def test_a_late_message_times_out():
    read, write = os.pipe()
    try:
        os.write(write, struct.pack("<Q", 10))   # a header that never comes
        with pytest.raises(TimeoutError):
            wire.receive(read, time.monotonic() + 0.2)
    finally:
        os.close(read)
        os.close(write)


def test_values_that_are_not_data_are_refused_without_a_keeper():
    with pytest.raises(TypeError):
        wire.encode(object(), [])
    assert wire.encode(object(), [], keep=lambda obj: {"__ref__": 7}) == {"__ref__": 7}
