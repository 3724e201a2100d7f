"""Registering a user's own ArcFace-compatible ONNX embedder with its constants (never
guessed from the graph; the graph is only checked for compatibility).

May import: stdlib, facevault.core.fsutil, facevault.errors, facevault.paths, facevault.modelstore.
"""

from __future__ import annotations

import json
from pathlib import Path

from facevault.core import fsutil
from facevault import paths
from facevault.errors import ModelError, StorageError, UsageError
from facevault.modelstore.check import sha256_of as _sha256
from facevault.modelstore.manifest import NAME_RE as _NAME_RE
from facevault.modelstore.manifest import ModelEntry, load_manifest, _load_user, _parse_entry
from facevault.modelstore.onnx_meta import onnx_io_shapes

__all__ = ["register_model"]


def _fixed(dim: int | str, want: int) -> bool:
    """A dim is compatible if it equals `want` or is symbolic/unset (0 means unset too)."""
    return not isinstance(dim, int) or dim in (0, want)


def register_model(
    name: str,
    path: Path | str,
    *,
    input_size: int | tuple[int, int],
    colour_order: str,
    mean: float,
    std: float,
    output_dim: int,
    input_name: str | None = None,
    output_name: str | None = None,
    default: bool = False,
) -> ModelEntry:
    """Record a user's ArcFace-compatible ONNX embedder (the file is not copied).

    The constants come from the user; they are never guessed. The graph is checked only
    for compatibility: one NCHW input [1 or dynamic, 3, H, W] matching input_size and an
    output [N, output_dim]. Refused with UsageError/ModelError otherwise.
    """
    if not _NAME_RE.match(name):
        raise UsageError(f"Bad model name {name!r}", hint="Use letters, digits, '_', '-' or '.'.")
    if load_manifest().find(name) is not None:
        raise UsageError(f"{name!r} is a built-in model name", hint="Choose another name.")
    w, h = (input_size, input_size) if isinstance(input_size, int) else input_size
    if colour_order not in ("RGB", "BGR"):
        raise UsageError(f"colour order must be RGB or BGR, not {colour_order!r}")
    if not std or std <= 0 or output_dim <= 0 or w <= 0 or h <= 0:
        raise UsageError("std, output_dim and input_size must be positive")
    model = Path(path).expanduser().resolve()
    if not model.is_file():
        raise UsageError(f"No such model file: {path}")
    inputs, outputs = onnx_io_shapes(model)
    in_name = input_name or next(iter(inputs))
    out_name = output_name or next(iter(outputs))
    if in_name not in inputs or out_name not in outputs:
        raise ModelError(
            f"{model.name} has inputs {list(inputs)} and outputs {list(outputs)}; "
            f"{in_name!r}/{out_name!r} not found", hint="Name the model's input and output.")
    dims, odims = inputs[in_name], outputs[out_name]
    if not (len(dims) == 4 and _fixed(dims[0], 1) and _fixed(dims[1], 3)
            and _fixed(dims[2], h) and _fixed(dims[3], w)):
        raise ModelError(
            f"{model.name} takes input {dims}, not [1, 3, {h}, {w}] (NCHW)",
            hint="FaceVault needs an ArcFace-style model on aligned 112x112 RGB/BGR crops.",
        )
    if len(odims) != 2 or not _fixed(odims[1], output_dim):
        raise ModelError(f"{model.name} gives output {odims}, not [1, {output_dim}]")
    entry_json = {
        "name": name, "role": "embedder", "path": str(model),
        "size": model.stat().st_size, "sha256": _sha256(model), "licence": "user-provided",
        "preprocessing": {
            "input_size": [w, h], "colour_order": colour_order, "mean": float(mean),
            "std": float(std), "output_dim": output_dim, "input_name": in_name,
            "output_name": out_name, "status": "verified",
        },
    }
    where = paths.user_models_file()
    _, _, raw = _load_user(where)
    raw["models"] = [m for m in raw["models"] if m.get("name") != name] + [entry_json]
    if default:
        raw["default_embedder"] = name
    try:
        fsutil.private_folder(where.parent)
        fsutil.write_private(where, (json.dumps(raw, indent=2) + "\n").encode("utf-8"),
                             what=f"writing {where}", replace=True)
    except StorageError as exc:
        raise ModelError(f"Cannot write {where}: {exc}") from None
    return _parse_entry(entry_json, where, where.parent, user=True)
