"""An ONNX model's bytes with its subnormal float32 weights set to zero, read and patched
straight in the protobuf (no `onnx` import, the length of every field unchanged).

Role: FaceVault's own embedding model (fr_feature.onnx) carries 8,938 float32 weights
smaller than the smallest normal float32 (about 1.2e-38). On Intel CPUs every multiply
with such a number takes a slow microcode path: measured on a 2-core Xeon, one forward
pass took 62 ms as shipped and 20 ms with those weights set to zero, and the cloak's
forward+backward 81 ms against 44 ms. Their contribution to any output is below float32's
resolution, so the embedding does not move (tests/vision/test_weights.py compares them).
The file on disk stays as installed (its sha256 is what `facevault models check` checks);
only the bytes handed to onnxruntime are patched.

May import: stdlib, numpy, facevault.errors.
"""

from __future__ import annotations

import numpy as np

from facevault.errors import ModelError

__all__ = ["without_subnormals"]

_FLOAT = 1  # TensorProto.DataType.FLOAT


def _varint(data: bytes | bytearray, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("bad varint")


def _fields(data: bytes | bytearray, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(field number, wire type, value or payload length, payload start) of one message."""
    out = []
    pos = start
    while pos < end:
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, wire, value, pos))
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > end:
                raise ValueError("a field runs past its message")
            out.append((number, wire, length, pos))
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    if pos != end:
        raise ValueError("a message runs past its end")
    return out


def _flush(buf: bytearray, start: int, length: int) -> int:
    """Zero the subnormal float32 values stored little-endian at buf[start:start+length]."""
    if length % 4:
        raise ValueError("float data whose length is not a multiple of 4")
    values = np.frombuffer(buf, dtype="<f4", count=length // 4, offset=start)
    small = (values != 0) & (np.abs(values) < np.finfo(np.float32).tiny)
    count = int(np.count_nonzero(small))
    if count:
        fixed = np.where(small, np.float32(0), values).astype("<f4")
        buf[start:start + length] = fixed.tobytes()
    return count


def without_subnormals(data: bytes) -> tuple[bytes, int]:
    """(the model's bytes with every subnormal float32 initializer value set to zero, how
    many were). ModelError when the bytes are not an ONNX model's protobuf."""
    buf = bytearray(data)
    flushed = 0
    try:
        for number, wire, length, start in _fields(buf, 0, len(buf)):
            if number != 7 or wire != 2:  # ModelProto.graph
                continue
            for g_number, g_wire, g_length, g_start in _fields(buf, start, start + length):
                if g_number != 5 or g_wire != 2:  # GraphProto.initializer (TensorProto)
                    continue
                tensor = _fields(buf, g_start, g_start + g_length)
                dtype = next((v for n, w, v, _s in tensor if n == 2 and w == 0), None)
                if dtype != _FLOAT:
                    continue
                for t_number, t_wire, t_length, t_start in tensor:
                    # raw_data (9), or float_data (4) packed
                    if t_wire == 2 and t_number in (9, 4):
                        flushed += _flush(buf, t_start, t_length)
    except ValueError as exc:
        raise ModelError(f"not a readable ONNX model ({exc})") from None
    return bytes(buf), flushed
