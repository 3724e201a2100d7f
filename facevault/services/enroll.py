"""Enrolling a face and creating a vault, by the one EnrollPolicy both front ends use.

`capture_template` captures `policy.want` good frames and fuses them (refusing fewer than
`policy.minimum`); `create_vault` makes a vault in a mode from that template, with a
recovery slot, and returns the open vault with its recovery code (shown once, never
stored). Nothing here keeps an embedding or a codeword beyond the call.

May import: stdlib, numpy, facevault.core, facevault.vision (fusion), facevault.errors,
facevault.services.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facevault.core import facekey, ironmask, recovery
from facevault.core.kdf import DEFAULT_PARAMS, KdfParams
from facevault.core.kinds import Kind
from facevault.core.kinds.face_passphrase import normalise_passphrase
from facevault.core.modelref import UNKNOWN_MODEL, ModelRef
from facevault.core.modes import Mode
from facevault.core.sealing import SlotPlan
from facevault.core.vault import OpenVault
from facevault.core.vault import create_vault as _create
from facevault.errors import Hint, KeyringUnavailableError, NoUsableFaceError, UsageError
from facevault.services.capture import Capture, CaptureParts, capture
from facevault.services.keyslots import device_plan, face_plans, recovery_plan
from facevault.services.policy import EnrollPolicy
from facevault.services.progress import Progress
from facevault.services.secretstore import SecretStore
from facevault.services.trust import DeviceRef, PinStore, this_device
from facevault.services.unlock import watch

__all__ = ["Created", "PendingVault", "pending_vault", "template_of", "capture_template", "create_vault", "source_fingerprint",
           "enrolled_before", "remember_enrollment"]


@dataclass(frozen=True)
class Created:
    vault: OpenVault
    recovery_code: str = field(repr=False)  # show once; never stored
    face: facekey.EnrolledFace | None = field(default=None, repr=False)  # pairing needs it


@dataclass(frozen=True)
class PendingVault:
    """A vault not written yet: the captured template (in memory only) and the recovery
    code to show and have confirmed first. `create()` writes it with that code; dropping
    the object leaves nothing on disk or in the keyring."""

    path: Path
    template: np.ndarray = field(repr=False)
    recovery_code: str = field(repr=False)
    mode: Mode = Mode.FACE
    preset: str = ironmask.DEFAULT_PRESET
    kdf: KdfParams = DEFAULT_PARAMS
    store: SecretStore | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)
    device_slot: bool = False
    model: ModelRef = UNKNOWN_MODEL

    def create(self) -> Created:
        return create_vault(self.path, self.template, mode=self.mode, kdf=self.kdf, preset=self.preset,
                            store=self.store, passphrase=self.passphrase, device_slot=self.device_slot,
                            model=self.model, recovery_code=self.recovery_code)


def pending_vault(path: Path, template: np.ndarray, *, mode: Mode = Mode.FACE, kdf: KdfParams,
                  preset: str = ironmask.DEFAULT_PRESET, store: SecretStore | None = None,
                  passphrase: str | None = None, device_slot: bool = False,
                  model: ModelRef = UNKNOWN_MODEL) -> PendingVault:
    """Everything `create_vault` needs, checked, and a new recovery code; nothing written."""
    if mode is Mode.FACE_PASSPHRASE:
        if passphrase is None:
            raise UsageError("face+passphrase needs a passphrase or PIN", hint=Hint.GIVE_NEW_PASSPHRASE)
        normalise_passphrase(passphrase)
    if (mode is Mode.FACE_DEVICE or device_slot) and store is None:
        raise KeyringUnavailableError("this needs this computer's OS keyring")
    facekey.preset_params(preset)  # an unknown preset is refused now, not after the code
    return PendingVault(Path(path), np.asarray(template, dtype=np.float32).copy(),
                        recovery.new_recovery_code(), mode, preset, kdf, store, passphrase,
                        device_slot, model)


def template_of(result: Capture, *, minimum: int) -> np.ndarray:
    """Fuse the good observations into one unit template (quality-weighted mean)."""
    if len(result.good) < minimum:
        raise NoUsableFaceError(
            f"no usable face: {result.why_none()}" if not result.good
            else f"only {len(result.good)} usable face image(s); {minimum} needed",
            hint="Face the camera in good light, alone, at arm's length; or give clearer photos.",
        )
    from facevault.vision.pipeline import fuse

    return np.asarray(fuse(list(result.good)).embedding, dtype=np.float32)


def capture_template(spec: str, *, parts: CaptureParts, policy: EnrollPolicy = EnrollPolicy(),
                     stop: Callable[[], bool] | None = None) -> Generator[Progress, None, np.ndarray]:
    """Capture `policy.want` good faces from `spec` and return the fused (512,) template."""
    result = yield from capture(spec, want=policy.want, max_frames=policy.max_frames,
                                parts=parts, stop=stop)
    return template_of(result, minimum=min(policy.minimum, policy.want))


def create_vault(
    path: Path,
    template: np.ndarray,
    *,
    mode: Mode = Mode.FACE,
    kdf: KdfParams,
    preset: str = ironmask.DEFAULT_PRESET,
    store: SecretStore | None = None,
    passphrase: str | None = None,
    device_slot: bool = False,
    model: ModelRef = UNKNOWN_MODEL,
    device: DeviceRef | None = None,
    pins: PinStore | None = None,
    recovery_code: str | None = None,
) -> Created:
    """A new vault at `path` in `mode`, with a recovery slot (its code new, or
    `recovery_code` when the person was shown and confirmed one before: PendingVault).

    face: a face slot, plus a device-only slot in `store` when `device_slot`.
    face+device: one face+device slot whose secret goes into `store`.
    face+passphrase: one face+passphrase slot (`passphrase` required).
    `model`: the embedding model the template came from (recorded in the face slot);
    `device`: this computer (default: services.trust.this_device); `pins`: where this
    computer pins the new vault (default: the data dir and the OS keyring).
    """
    if mode is Mode.FACE_PASSPHRASE:
        if passphrase is None:
            raise UsageError("face+passphrase needs a passphrase or PIN", hint=Hint.GIVE_NEW_PASSPHRASE)
        normalise_passphrase(passphrase)  # refuse a too-short one before enrolling
    if (mode is Mode.FACE_DEVICE or device_slot) and store is None:
        raise KeyringUnavailableError("this needs this computer's OS keyring")
    here = device or this_device()
    face = facekey.enroll(template, preset=preset, model=model)
    added: list[str] = []
    try:
        plans: list[SlotPlan]
        if mode is Mode.FACE_DEVICE:
            assert store is not None
            plan, secret = device_plan(Kind.FACE_DEVICE, store, kdf, face)
            added.append(secret.entry)
            plans = [plan]
        else:
            plans = face_plans(mode, face, kdf, passphrase=passphrase)
        fresh = recovery_plan(kdf, recovery_code)
        plans.append(fresh.plan)
        if mode is Mode.FACE and device_slot:
            assert store is not None
            plan, secret = device_plan(Kind.DEVICE, store, kdf)
            added.append(secret.entry)
            plans.append(plan)
        vault = _create(Path(path), plans, mode=mode, device=here)
    except BaseException:
        for entry in added:
            store.delete(entry)  # type: ignore[union-attr]
        raise
    return Created(watch(vault, pins if pins is not None else PinStore.default(), None), fresh.code, face)


# -- a second enrollment from the same still source ------------------------------------------

_SOURCES_FILE = "enrolled-sources.json"


def source_fingerprint(spec: str) -> str | None:
    """The sha256 of what a still source holds (an image, a folder of images, a video
    file), in a stable order; None for a live camera. The same photos or video give the
    same template every time: a second enrollment from them is a second helper of one
    template, the multi-sketch attack's noise-free case (docs/SECURITY.md)."""
    import hashlib

    if spec.startswith("camera:"):
        return None
    path = Path(spec)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256(b"FaceVault enrollment source\x00")
    for f in files:
        try:
            with open(f, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError:
            return None
    return digest.hexdigest()


def _sources(data_dir: Path | None) -> tuple[Path, dict[str, object]]:
    import json

    from facevault import paths

    file = (data_dir or paths.data_dir()) / _SOURCES_FILE
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = {}
    return file, doc if isinstance(doc, dict) else {}


def _mark(key: bytes, fingerprint: str) -> str:
    import hmac

    return hmac.new(key, fingerprint.encode(), "sha256").hexdigest()


def enrolled_before(spec: str, data_dir: Path | None = None) -> bool:
    """Whether this computer already enrolled a face from exactly this still source. Only
    keyed digests are kept (they do not say which files)."""
    fingerprint = source_fingerprint(spec)
    if fingerprint is None:
        return False
    _file, doc = _sources(data_dir)
    try:
        key = bytes.fromhex(str(doc["key"]))
    except (KeyError, ValueError):
        return False
    return _mark(key, fingerprint) in set(map(str, doc.get("seen") or []))  # type: ignore[call-overload]


def remember_enrollment(spec: str, data_dir: Path | None = None) -> None:
    import json
    import secrets

    from facevault.core import fsutil

    fingerprint = source_fingerprint(spec)
    if fingerprint is None:
        return
    file, doc = _sources(data_dir)
    try:
        key = bytes.fromhex(str(doc["key"]))
    except (KeyError, ValueError):
        key = secrets.token_bytes(32)
    seen = sorted(set(map(str, doc.get("seen") or [])) | {_mark(key, fingerprint)})  # type: ignore[call-overload]
    fsutil.private_folder(file.parent)
    with fsutil.atomic_write(file, what="remembering the enrollment source") as out:
        out.write(json.dumps({"key": key.hex(), "seen": seen}).encode())
