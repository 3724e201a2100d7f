"""Reading an ONNX file's graph inputs and outputs with their shapes straight from the
protobuf, without onnx or onnxruntime and without loading the weights.

May import: stdlib, facevault.errors.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from facevault.errors import ModelError

__all__ = ["onnx_io_shapes"]


def _varint(fh: IO[bytes]) -> int | None:
    shift = result = 0
    while True:
        b = fh.read(1)
        if not b:
            return None
        result |= (b[0] & 0x7F) << shift
        if not b[0] & 0x80:
            return result
        shift += 7
        if shift > 63:
            raise ValueError("bad varint")


def _fields(fh: IO[bytes], end: int) -> Iterator[tuple[int, int, int, int]]:
    """Protobuf fields in fh up to offset `end`: (number, wire type, value or length, start).
    Length-delimited payloads are skipped unless the caller reads them (it may seek)."""
    while fh.tell() < end:
        key = _varint(fh)
        if key is None:
            return
        number, wire = key >> 3, key & 7
        if wire == 0:
            value = _varint(fh)
            yield number, wire, value or 0, fh.tell()
        elif wire == 2:
            length = _varint(fh) or 0
            start = fh.tell()
            yield number, wire, length, start
            fh.seek(start + length)
        elif wire in (1, 5):
            fh.seek(8 if wire == 1 else 4, os.SEEK_CUR)
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def _value_info(fh: IO[bytes], start: int, length: int) -> tuple[str, list[int | str]]:
    """ValueInfoProto -> (name, dims); a dim is an int or a symbolic name ('?' if unset)."""
    name, dims = "", []
    fh.seek(start)
    for n, w, v, s in _fields(fh, start + length):
        if n == 1 and w == 2:
            fh.seek(s)
            name = fh.read(v).decode("utf-8", "replace")
        elif n == 2 and w == 2:  # TypeProto
            for n2, w2, v2, s2 in _fields(fh, s + v):
                if n2 == 1 and w2 == 2:  # tensor_type
                    for n3, w3, v3, s3 in _fields(fh, s2 + v2):
                        if n3 == 2 and w3 == 2:  # shape
                            for n4, w4, v4, s4 in _fields(fh, s3 + v3):
                                if n4 == 1 and w4 == 2:  # dim
                                    dim: int | str = "?"
                                    for n5, w5, v5, s5 in _fields(fh, s4 + v4):
                                        if n5 == 1 and w5 == 0:
                                            dim = v5
                                        elif n5 == 2 and w5 == 2:
                                            fh.seek(s5)
                                            dim = fh.read(v5).decode("utf-8", "replace") or "?"
                                    dims.append(dim)
    return name, dims


def onnx_io_shapes(path: Path | str) -> tuple[dict[str, list[int | str]], dict[str, list[int | str]]]:
    """Graph inputs (initializers excluded) and outputs of an ONNX file with their shapes,
    read straight from the protobuf without loading the weights. Raises ModelError."""
    path = Path(path)
    inputs: dict[str, list[int | str]] = {}
    outputs: dict[str, list[int | str]] = {}
    initializers: set[str] = set()
    try:
        with open(path, "rb") as fh:
            total = fh.seek(0, os.SEEK_END)
            fh.seek(0)
            for n, w, v, s in _fields(fh, total):
                if n != 7 or w != 2:  # ModelProto.graph
                    continue
                for gn, gw, gv, gs in _fields(fh, s + v):
                    if gw != 2 or gn not in (5, 11, 12):
                        continue
                    if gn == 5:  # TensorProto initializer: only its name (field 8)
                        for tn, tw, tv, ts in _fields(fh, gs + gv):
                            if tn == 8 and tw == 2:
                                fh.seek(ts)
                                initializers.add(fh.read(tv).decode("utf-8", "replace"))
                    else:
                        name, dims = _value_info(fh, gs, gv)
                        (inputs if gn == 11 else outputs)[name] = dims
                    fh.seek(gs + gv)
                break
    except OSError as exc:
        raise ModelError(f"Cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeError) as exc:
        raise ModelError(f"{path} is not a valid ONNX file ({exc})") from None
    inputs = {k: d for k, d in inputs.items() if k not in initializers}
    if not inputs or not outputs:
        raise ModelError(f"{path} is not an ONNX model (no graph inputs/outputs found)",
                         hint="Pass the .onnx file of an ArcFace-compatible face embedding model.")
    return inputs, outputs


