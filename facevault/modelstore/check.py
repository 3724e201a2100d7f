"""Whether the model files on disk are the right ones, and finding them by name or role.

Start-up cost: `model_path()` checks existence and size, and trusts a sha256 verified earlier
for the same (size, mtime_ns), cached in `.cache/verified.json` beside the model files; the
full hash runs once per file change.

May import: stdlib, facevault.core.fsutil, facevault.errors, facevault.paths, facevault.modelstore.manifest.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from facevault.core import fsutil
from facevault import paths
from facevault.errors import Hint, ModelError, StorageError, UsageError
from facevault.modelstore.manifest import ModelEntry, all_entries, load_manifest, _load_user

__all__ = ["model_path", "embedder_entry", "default_embedder_name", "verify", "surrogate_entries", "status",
           "cache_store", "sha256_of"]

log = logging.getLogger(__name__)


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
        fsutil.private_folder(target.parent)
        fsutil.write_private(target, json.dumps(cache, indent=1, sort_keys=True).encode("utf-8"),
                             what="writing the hash cache", replace=True)
    except StorageError as exc:
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
        hint: str | Hint = Hint.INSTALL_MODELS
        if entry.user:
            hint = Hint.REGISTER_MODEL
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
        hint=Hint.LIST_MODELS,
    )


def default_embedder_name() -> str:
    """The name of the embedder used when none is named (the file is not checked)."""
    return _lookup("embedder").name


def model_path(name_or_role: str) -> Path:
    """The checked path of a model, by name ("fr_feature") or role ("landmarker").

    Raises ModelError with Hint.INSTALL_MODELS when missing or corrupt.
    """
    return _checked(_lookup(name_or_role)).path


def embedder_entry(name: str | None = None) -> ModelEntry:
    """The embedding model to use: `name`, else the user's default, else the manifest's."""
    entry = _lookup(name or "embedder")
    if entry.role != "embedder":
        raise UsageError(f"{entry.name} is a {entry.role} model, not a face embedder")
    return _checked(entry)


def surrogate_entries() -> list[ModelEntry]:
    """The checked further identity models the photo cloak crafts against (role
    "surrogate"), in manifest order. ModelError when one is missing or corrupt."""
    return [_checked(e) for e in load_manifest().models if e.role == "surrogate"]


def verify() -> list[tuple[str, str]]:
    """Hash every known model file now: (name, status) with status 'ok' or what is wrong."""
    return [(e.name, _status(e, use_cache=False)) for e in all_entries()]




sha256_of = _sha256
status = _status
cache_store = _cache_store
