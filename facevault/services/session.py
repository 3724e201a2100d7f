"""What a desktop session needs beyond the plain use cases, without Qt.

- `Settings` / `SettingsStore`: recent vaults, chosen camera, auto-lock minutes and the
  security preset, kept as JSON in paths.config_dir() (written atomically).
- `list_cameras()`: the camera specs worth offering in a chooser (no cv2: device nodes on
  Linux, camera:0 elsewhere).
- `Models`: loads the face models once (in a worker, at start-up) and hands out pipelines;
  a `pipeline_factory` for services.capture.
- `capture_template` / `capture_probes`: capture generators that end in what enroll and
  unlock need; `presets()`, `about_info()`, `device_enabled_here()`, `is_encrypted_file()`.
- `unlock_live(...)`: the live unlock loop. A generator that yields a LiveProgress per frame
  and tries to open the vault each time enough new good faces came in; it returns the
  OpenVault, or raises NotRecognisedError when the time runs out.
- `unlock_with_challenge(...)`: unlock behind the liveness challenge (services.liveness):
  yields the challenge's LivenessProgress per frame, then DECODING, and only then tries
  the challenged face's embeddings.
- `vault_mode(path)`: face / face+device / face+passphrase from the header (no unlock).
- `PrivateCopies`: a private (0700) temporary folder for files opened from a vault,
  deleted on `clear()`. `icon_paths()`: the app icon files from resources/, if shipped.

May import: stdlib, numpy, facevault.errors, facevault.paths, facevault.services,
facevault.vision and facevault.modelstore (lazily, inside functions).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from facevault.errors import FaceVaultError, NotRecognisedError
from facevault.services import capture as capture_mod
from facevault.services import keys, vaults

__all__ = [
    "Settings",
    "SettingsStore",
    "list_cameras",
    "Models",
    "LiveProgress",
    "unlock_live",
    "MAX_RECENT",
    "capture_template",
    "capture_probes",
    "PresetInfo",
    "presets",
    "ModelInfo",
    "about_info",
    "device_enabled_here",
    "is_encrypted_file",
    "DECODING",
    "unlock_with_challenge",
    "vault_mode",
    "PrivateCopies",
    "icon_paths",
]

MAX_RECENT = 8


@dataclass(frozen=True)
class Settings:
    recent: tuple[str, ...] = ()
    camera: str = "camera:0"
    auto_lock_minutes: int = 5  # 0 = never
    preset: str = "default"
    liveness: bool = True  # blink-and-turn challenge before a camera unlock

    def with_recent(self, path: str | Path) -> "Settings":
        text = str(Path(path))
        items = [text, *(r for r in self.recent if r != text)]
        return replace(self, recent=tuple(items[:MAX_RECENT]))

    def without_recent(self, path: str | Path) -> "Settings":
        text = str(Path(path))
        return replace(self, recent=tuple(r for r in self.recent if r != text))


class SettingsStore:
    """Settings in a JSON file; unreadable or odd content falls back to defaults."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            from facevault import paths

            path = paths.config_dir() / "gui.json"
        self.path = Path(path)

    def load(self) -> Settings:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return Settings()
        if not isinstance(data, dict):
            return Settings()
        base = Settings()
        recent = data.get("recent", [])
        minutes = data.get("auto_lock_minutes", base.auto_lock_minutes)
        return Settings(
            recent=tuple(str(r) for r in recent if isinstance(r, str))[:MAX_RECENT]
            if isinstance(recent, list) else (),
            camera=str(data.get("camera", base.camera)),
            auto_lock_minutes=int(minutes) if isinstance(minutes, int) and 0 <= minutes <= 24 * 60
            else base.auto_lock_minutes,
            preset=str(data.get("preset", base.preset)),
            liveness=data.get("liveness") is not False,  # only an explicit false turns it off
        )

    def save(self, settings: Settings) -> None:
        """Write atomically; a failure to save settings is not worth an error dialog."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".gui.", suffix=".json", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({**asdict(settings), "recent": list(settings.recent)}, handle, indent=1)
            os.replace(tmp, self.path)
        except OSError:
            pass


def list_cameras() -> list[str]:
    """Camera specs to offer; video device nodes on Linux (capture nodes are usually even)."""
    if sys.platform.startswith("linux"):
        found = sorted(
            int(p.name[5:]) for p in Path("/dev").glob("video*") if p.name[5:].isdigit()
        )
        return [f"camera:{n}" for n in found]
    return ["camera:0"]


class Models:
    """The face models, loaded once. `warm()` may run in a worker at start-up; calling the
    object (a services.capture pipeline_factory) builds a pipeline with the shared embedder
    and a fresh landmarker (MediaPipe's video mode keeps per-stream state)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._embedder: Any = None
        self._landmarker_path: Path | None = None

    @property
    def ready(self) -> bool:
        return self._embedder is not None

    def warm(self) -> None:
        with self._lock:
            if self._embedder is not None:
                return
            from facevault import modelstore
            from facevault.errors import ModelError
            from facevault.vision.embedder import ArcFaceEmbedder
            import facevault.vision.landmarks  # noqa: F401 - imports mediapipe now, not later

            self._landmarker_path = modelstore.model_path("landmarker")
            entry = modelstore.embedder_entry()
            if entry.preprocessing is None:
                raise ModelError(f"The manifest gives no preprocessing for {entry.name}.")
            self._embedder = ArcFaceEmbedder(entry.path, entry.preprocessing, threads=1)

    def __call__(self, video: bool) -> Any:
        self.warm()
        from facevault.vision.landmarks import FaceLandmarker
        from facevault.vision.pipeline import FacePipeline

        assert self._landmarker_path is not None
        return FacePipeline(FaceLandmarker(self._landmarker_path, video=video), self._embedder)


@dataclass(frozen=True)
class LiveProgress:
    """One frame of the live unlock loop (for the live view and the status line)."""

    frames: int
    good: int
    attempts: int  # unlock attempts so far
    seconds_left: float
    observation: Any = field(default=None, repr=False)  # FaceObservation
    rgb: Any = field(default=None, repr=False)  # (H, W, 3) uint8 frame


def unlock_live(
    path: Path,
    spec: str,
    *,
    pipeline_factory: Callable[[bool], Any],
    batch: int = 3,
    timeout_s: float = 15.0,
    max_frames: int = 100_000,
    policy: keys.FaceSlotPolicy = keys.FaceSlotPolicy(),
    clock: Callable[[], float] = time.monotonic,
    offer: keys.Offer = keys.Offer(),
) -> Generator[LiveProgress, None, Any]:
    """Watch `spec` and open the vault at `path` as soon as `batch` new good faces decode.

    Each attempt offers the last `batch` embeddings (costing at most policy.max_tries KDF
    runs) together with the second factor in `offer` (passphrase, or the keyring store of a
    face+device vault). Returns the OpenVault. Raises NotRecognisedError on timeout or when
    the source ends without a match; closing the generator stops the camera.
    """
    start = clock()
    window: list[Any] = []
    attempts = 0
    last_error: FaceVaultError | None = None
    gen = capture_mod.capture(spec, want=max_frames, max_frames=max_frames,
                              pipeline_factory=pipeline_factory)
    try:
        for progress in gen:
            obs = progress.observation
            if obs is not None and obs.ok:
                window.append(obs.embedding)
            left = max(0.0, timeout_s - (clock() - start))
            yield LiveProgress(progress.frames, progress.good, attempts, left, obs, progress.rgb)
            if len(window) >= batch:
                attempts += 1
                try:
                    return vaults.unlock(path, replace(offer, face_embeddings=tuple(window)), policy)
                except NotRecognisedError as exc:
                    last_error = exc
                finally:
                    window.clear()
            if left <= 0:
                break
    finally:
        gen.close()
    if attempts == 0:
        raise NotRecognisedError(
            "no usable face was seen in time",
            hint="Face the camera alone, at arm's length, in even light; or use the recovery code.",
        )
    raise NotRecognisedError(
        f"face not recognised ({attempts} attempt{'s' if attempts != 1 else ''})",
        hint=(last_error.hint if last_error and last_error.hint else None)
        or "Try again in better light, or use the recovery code.",
    )


DECODING = "Checking your face…"  # yielded between a passed challenge and the decode


def unlock_with_challenge(
    path: Path,
    spec: str,
    *,
    pipeline_factory: Callable[[bool], Any],
    allow_still: bool = False,
    offer: keys.Offer = keys.Offer(),
    policy: keys.FaceSlotPolicy = keys.FaceSlotPolicy(),
    **challenge: Any,
) -> Generator[Any, None, Any]:
    """Open the vault at `path` only after the liveness challenge passed on `spec`.

    Yields the challenge's LivenessProgress per frame (show `status.instruction` and
    `status.remaining_ms`), then DECODING; returns the OpenVault. The challenged face's
    embeddings are offered with the second factor in `offer`. Raises NotRecognisedError when
    the challenge fails (nothing is decoded then) or the face does not open the vault;
    UsageError for a video file unless `allow_still` (tests only). `challenge`: extra
    keywords for services.liveness.live_probes (settings, clock, side, stop, passive).
    """
    from facevault.services import liveness

    embeddings = yield from liveness.live_probes(
        spec, require=True, allow_still=allow_still, pipeline_factory=pipeline_factory, **challenge)
    yield DECODING
    return vaults.unlock(path, replace(offer, face_embeddings=tuple(embeddings)), policy)


def vault_mode(path: Path) -> str:
    """The mode of the vault at `path` (vaults.MODES, "none" or "mixed"), from its header."""
    from facevault.core import vault as vault_mod

    return vaults.mode_of(vault_mod.read_header(Path(path)).slots)


class PrivateCopies:
    """A temporary folder only this user can read (0700) for files opened from a vault.

    `target(name)` is a fresh path inside it for a leaf file name; `clear()` deletes the
    folder with everything in it (when the vault locks and when the app quits)."""

    def __init__(self, parent: Path | None = None) -> None:
        self.parent = parent
        self._root: Path | None = None

    @property
    def root(self) -> Path | None:
        return self._root

    def target(self, leaf: str) -> Path:
        if self._root is None or not self._root.is_dir():
            self._root = Path(tempfile.mkdtemp(prefix="facevault-open-", dir=self.parent))
            os.chmod(self._root, 0o700)
        folder = Path(tempfile.mkdtemp(dir=self._root))  # one folder per open: no name clashes
        return folder / leaf

    def clear(self) -> None:
        import shutil

        root, self._root = self._root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)


def icon_paths() -> list[Path]:
    """The app icon files (resources/icons/facevault*.png|svg) of a checkout or a bundle."""
    from facevault import paths

    roots = [paths.SOURCE_ROOT / "resources" / "icons"]
    bundle = getattr(paths, "bundle_root", lambda: None)()
    if bundle is not None:
        roots.insert(0, Path(bundle) / "resources" / "icons")
    for root in roots:
        found = sorted(root.glob("facevault*.png")) + sorted(root.glob("facevault*.svg"))
        if found:
            return found
    return []


def capture_template(
    spec: str,
    *,
    pipeline_factory: Callable[[bool], Any],
    want: int = 5,
    max_frames: int = 300,
    minimum: int = 3,
) -> Generator[capture_mod.CaptureProgress, None, Any]:
    """Capture `want` good faces from `spec` (yielding progress) and return the fused
    (512,) template; NoUsableFaceError when fewer than `minimum` were good."""
    result = yield from capture_mod.capture(
        spec, want=want, max_frames=max_frames, pipeline_factory=pipeline_factory)
    return capture_mod.template_of(result, minimum=min(minimum, want))


def capture_probes(
    spec: str,
    *,
    pipeline_factory: Callable[[bool], Any],
    want: int = 3,
    max_frames: int = 150,
) -> Generator[capture_mod.CaptureProgress, None, list[Any]]:
    """Capture up to `want` good faces to offer at unlock; NoUsableFaceError when none."""
    result = yield from capture_mod.capture(
        spec, want=want, max_frames=max_frames, pipeline_factory=pipeline_factory)
    return capture_mod.probes_of(result)


@dataclass(frozen=True)
class PresetInfo:
    name: str
    bits: float


def presets() -> list[PresetInfo]:
    """The IronMask security presets, default first."""
    from facevault.core import ironmask

    names = sorted(ironmask.PRESETS, key=lambda n: (n != ironmask.DEFAULT_PRESET, n))
    return [PresetInfo(n, float(ironmask.PRESETS[n].bits)) for n in names]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    role: str
    licence: str
    source: str


def about_info() -> tuple[list[tuple[str, str]], list[ModelInfo]]:
    """Versions of FaceVault and its main libraries (without importing them) and the
    shipped models with their licences, from the manifest."""
    from importlib import metadata

    from facevault import __version__, modelstore

    versions = [("FaceVault", __version__), ("Python", sys.version.split()[0])]
    for label, dist in (("PySide6 (Qt)", "PySide6-Essentials"), ("MediaPipe", "mediapipe"),
                        ("ONNX Runtime", "onnxruntime"), ("OpenCV", "opencv-contrib-python"),
                        ("NumPy", "numpy"), ("cryptography", "cryptography"),
                        ("argon2-cffi", "argon2-cffi"), ("keyring", "keyring")):
        try:
            versions.append((label, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            versions.append((label, "not installed"))
    try:
        entries = modelstore.load_manifest().models
    except FaceVaultError:
        entries = ()
    models = []
    for m in entries:
        src = m.source
        where = f"{src.kind}: {src.package} {src.version}" if src is not None else "registered by you"
        models.append(ModelInfo(m.name, m.role, m.licence, where))
    return versions, models


def device_enabled_here(path: Path, store: Any) -> bool:
    """Whether the vault at `path` has a device slot whose secret is in `store`."""
    from facevault.core import vault as vault_mod

    header = vault_mod.read_header(Path(path))
    return any(s.kind == "device" and store.get(keys.device_entry(s)) is not None
               for s in header.slots)


def is_encrypted_file(path: Path) -> bool:
    """Whether `path` starts like a FaceVault single encrypted file."""
    from facevault.core import fileformat

    try:
        with open(path, "rb") as handle:
            return handle.read(len(fileformat.MAGIC)) == fileformat.MAGIC
    except OSError:
        return False
