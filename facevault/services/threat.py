"""Offline attack figures per vault mode, from FaceVault's own measurements.

An attacker with a copy of the vault folder has no liveness check and no attempt limit.
What each attack costs, per mode:

- face: the stored helper ranks faces for free (SECURITY-NOTES attack 2, measured by
  `facevault bench ranking`): whoever stores the folder can tell whose vault it is, and
  opens it at once with a clear photo of you. Without one, a face dictionary needs about
  1/FAR faces, each embedded once and decoded (no key stretching would slow that: its
  cost is counted in faces); brute force over the codebook needs 2^(bits-1) guesses.
- face+passphrase: the helper is hidden behind the passphrase, so no face can be scored
  without it; with a photo of you, the passphrase's own strength at its Argon2id cost.
- face+device: the 256-bit device secret; out of reach without a paired machine.

The figures (FAR, TAR, the ranking attack, and the reference machine the times are stated
on) ship in `resources/figures.json`, written by `facevault bench policy --write-far` and
`bench ranking`; a measurement of this installation in `measured_far_file()` (same
"far" layout) is preferred. KDF time comes from the slot's stored Argon2id parameters
on the reference, never from timing today's load.

May import: stdlib, facevault.core, facevault.errors, facevault.paths.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facevault.core import recovery
from facevault.core.kdf import KdfParams
from facevault.core.modes import Mode
from facevault.errors import Hint, UsageError

__all__ = [
    "FarEstimate",
    "Reference",
    "Ranking",
    "Attack",
    "ModeFigures",
    "PIN6_BITS",
    "shipped",
    "measured_far_file",
    "load_measured",
    "far_estimate",
    "kdf_seconds",
    "figures",
    "describe",
    "human_time",
]

PIN6_BITS = math.log2(10**6)  # a random 6-digit PIN: the passphrase assumption by default
DEVICE_SECRET_BITS = 256
RECOVERY_BITS = recovery.DATA_SYMBOLS * 5  # 130 random bits
SECONDS_PER_YEAR = 365.25 * 24 * 3600


@dataclass(frozen=True)
class FarEstimate:
    """far: per face tried, the chance it opens the slot (the 95% upper bound when
    measured: a lower bound on the attacker's work). tar: per photo of the owner."""

    far: float
    tar: float
    source: str
    measured: bool = False

    def __post_init__(self) -> None:
        if not (0.0 < self.far < 1.0 and 0.0 < self.tar <= 1.0):
            raise ValueError("far must be in (0, 1) and tar in (0, 1]")


@dataclass(frozen=True)
class Reference:
    """The machine the times are stated on, and the costs measured there."""

    name: str
    argon2_seconds_per_pass_mib: float  # Argon2id, parallelism 2
    guess_seconds: float  # one codeword decode and one X25519 key check
    embed_per_second_cpu: float  # face embeddings per second (the shipped model)
    embed_per_second_gpu: float  # an assumption: see `gpu_source`
    gpu_source: str


@dataclass(frozen=True)
class Ranking:
    """The helper-ranking attack as measured: owners ranked first in a gallery."""

    rank1: int
    owners: int
    gallery: int
    source: str


@dataclass(frozen=True)
class Attack:
    name: str
    log2_work: float  # log2 of the expected guesses (or faces, for the dictionary)
    seconds: float  # on the reference
    sentence: str


@dataclass(frozen=True)
class ModeFigures:
    mode: Mode
    preset_bits: float
    kdf_seconds: float
    far: FarEstimate
    passphrase_bits: float | None
    attacks: tuple[Attack, ...]
    summary: str
    notes: tuple[str, ...]
    reference: Reference


def _figures_file() -> Path:
    from facevault import paths

    return paths.resources_dir() / "figures.json"


def shipped(path: Path | None = None) -> Mapping[str, object]:
    """The shipped measurements (resources/figures.json)."""
    file = path or _figures_file()
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"the shipped attack figures ({file}) cannot be read: {exc}",
                         hint=Hint.RERUN_ACCURACY) from None
    if not isinstance(doc, dict):
        raise UsageError(f"the shipped attack figures ({file}) are malformed")
    return doc


def _reference(doc: Mapping[str, object]) -> Reference:
    r: Any = doc["reference"]
    return Reference(str(r["name"]), float(r["argon2_seconds_per_pass_mib"]), float(r["guess_seconds"]),
                     float(r["embed_per_second_cpu"]), float(r["embed_per_second_gpu"]), str(r["gpu_source"]))


def _ranking(doc: Mapping[str, object], key: str) -> Ranking | None:
    table: Any = doc.get("ranking") or {}
    r = table.get(key)
    if not r:
        return None
    return Ranking(int(r["rank1"]), int(r["owners"]), int(r["gallery"]), str(table.get("source", "")))


def measured_far_file() -> Path:
    """Where a FAR measurement of this installation is read from (preferred when present)."""
    from facevault import paths

    return paths.data_dir() / "measured-far.json"


def _parse_far(data: Mapping[str, Any], measured: bool) -> dict[str, FarEstimate]:
    source = str(data["source"])
    return {str(name): FarEstimate(float(v["far"]), float(v["tar"]), source, measured)
            for name, v in data["presets"].items()}


def load_measured(path: Path) -> dict[str, FarEstimate]:
    """Parse a measurement file; {} if it does not exist. Malformed files are a UsageError."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the FAR measurement {path}: {exc}", hint=Hint.RERUN_ACCURACY) from None
    try:
        return _parse_far(data, True)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"the FAR measurement {path} is malformed ({exc})",
                         hint='expected {"source": ..., "presets": {"default": {"far": x, "tar": y}}}') from None


def far_estimate(preset: str, *, measured: Mapping[str, FarEstimate] | None = None) -> FarEstimate:
    """The FAR/TAR for `preset`: this installation's measurement if given, else the shipped one."""
    if measured and preset in measured:
        return measured[preset]
    far: Any = shipped()["far"]
    table = _parse_far(far, True)
    try:
        return table[preset]
    except KeyError:
        raise UsageError(f"no false-accept measurement for preset {preset!r}") from None


def kdf_seconds(params: KdfParams, ref: Reference | None = None) -> float:
    """One derivation with `params` on the reference (0 for a slot without stretching)."""
    if not params.stretches:
        return 0.0
    ref = ref or _reference(shipped())
    return params.time_cost * (params.memory_kib / 1024) * ref.argon2_seconds_per_pass_mib * 2 / max(params.parallelism, 1)


def human_time(seconds: float) -> str:
    """'3 seconds', '5 hours', '2.1e+12 years' - for a reader, not a parser."""
    if not math.isfinite(seconds) or seconds > 1e300:
        return "far longer than the age of the universe"
    for unit, size in (("years", SECONDS_PER_YEAR), ("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= size:
            value = seconds / size
            if unit == "years" and value >= 1e4:
                return f"{value:.1e} years"
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{seconds:.1f} seconds" if seconds >= 1 else "under a second"


def _verdict(seconds: float) -> str:
    if seconds < 30 * 86400:
        return "practical"
    if seconds < 1000 * SECONDS_PER_YEAR:
        return "possible for an attacker with many computers"
    return "out of reach"


def _count(log2: float) -> str:
    n = 2.0 ** min(log2, 1000.0)
    return f"{max(n, 1.0):,.0f}" if n < 1e7 else f"2^{log2:.0f}"


def _guessing(name: str, who: str, log2: float, per_guess: float) -> Attack:
    seconds = 2.0 ** min(log2, 1000.0) * per_guess
    return Attack(name, log2, seconds, f"{who}: about {_count(log2)} guesses, {human_time(seconds)} on one "
                                        f"computer like the reference ({_verdict(seconds)})")


def figures(mode: Mode, *, preset_bits: float, kdf: KdfParams, far: FarEstimate,
            passphrase_bits: float = PIN6_BITS, device_only_slots: int = 0,
            doc: Mapping[str, object] | None = None) -> ModeFigures:
    """What each attack costs an attacker with a copy of the folder, for a vault in `mode`."""
    doc = doc if doc is not None else shipped()
    ref = _reference(doc)
    k = kdf_seconds(kdf, ref)
    guess = ref.guess_seconds
    faces = -math.log2(far.far)
    notes: list[str] = []
    if mode is Mode.FACE:
        rank = _ranking(doc, "face")
        cpu, gpu = 2.0 ** faces / ref.embed_per_second_cpu, 2.0 ** faces / ref.embed_per_second_gpu
        attacks = (
            Attack("photo", -math.log2(far.tar), (1 / far.tar) * guess,
                   f"With a copy of the folder and a clear photo of you: opens at once (each photo "
                   f"is one decode, no key stretching; {far.tar:.0%} of single photos open it)"),
            Attack("dictionary", faces, cpu,
                   f"With a copy of the folder and a large collection of other people's faces: about "
                   f"{_count(faces)} faces, {human_time(cpu)} of embedding on one computer like the "
                   f"reference, {human_time(gpu)} on one GPU-class machine ({_verdict(gpu)})"),
            _guessing("brute force", "Trying every codeword", preset_bits - 1, guess),
        )
        summary = ("Face only: someone with a clear photo of you and a copy of this vault folder can open "
                   "it at once. Your face is not a secret; this mode is for convenience.")
        if rank is not None:
            notes.append(f"Whoever stores the folder can tell it is yours: the stored helper picked its owner "
                         f"out of {rank.gallery:,} people {rank.rank1} times in {rank.owners} (measured, "
                         "`facevault bench ranking`), and two vaults of one person are linkable.")
    elif mode is Mode.FACE_PASSPHRASE:
        rank = _ranking(doc, "face+passphrase")
        per = k + guess
        # each passphrase guess reveals a helper once (one Argon2id); then ~1/FAR faces are decoded
        dict_seconds = 2.0 ** (passphrase_bits - 1) * (k + 2.0 ** faces * guess)
        attacks = (
            _guessing("photo", "With a copy of the folder and a clear photo of you", passphrase_bits - 1, per),
            Attack("dictionary", passphrase_bits - 1 + faces, dict_seconds,
                   f"With the folder and other people's faces, but no photo of you: about "
                   f"{_count(passphrase_bits - 1)} passphrase guesses, each followed by about "
                   f"{_count(faces)} face decodes, {human_time(dict_seconds)} on one computer like the "
                   f"reference ({_verdict(dict_seconds)})"),
            _guessing("brute force", "Trying every codeword and passphrase", preset_bits - 1 + passphrase_bits,
                      per),
        )
        summary = ("Face + passphrase: with a copy of the folder and a photo of you, this vault is exactly "
                   "as strong as the passphrase at its Argon2id cost. No face can be tried without it.")
        notes.append(f"Assuming a passphrase worth {passphrase_bits:.0f} bits "
                     f"({'a random 6-digit PIN' if abs(passphrase_bits - PIN6_BITS) < 0.01 else 'as given'}); "
                     "4 random words from a 7776-word list are about 52 bits, 6 words about 78.")
        if rank is not None:
            notes.append(f"The stored helper is hidden behind the passphrase: it picked its owner out of "
                         f"{rank.gallery:,} people {rank.rank1} times in {rank.owners} (chance alone: "
                         f"about {rank.owners / rank.gallery:.2f} in {rank.owners}), so it does not say whose it is.")
    elif mode is Mode.FACE_DEVICE:
        attacks = (
            _guessing("photo", "With a copy of the folder and a clear photo of you", DEVICE_SECRET_BITS - 1, guess),
            _guessing("dictionary", "With the folder and other people's faces",
                      DEVICE_SECRET_BITS - 1 + faces, guess),
            _guessing("brute force", "Trying every codeword and device secret",
                      preset_bits - 1 + DEVICE_SECRET_BITS, guess),
        )
        summary = ("Face + device: a copy of the folder and a photo of you are not enough; the attacker "
                   "also needs the 256-bit secret in the keyring of a paired computer.")
        notes.append("Someone who can run programs as you on a paired computer (malware, or your unlocked "
                     "computer) can read its keyring; with a photo of you they can open the vault.")
    else:
        raise UsageError(f"unknown mode {mode!r}")
    if device_only_slots:
        notes.append(f"{device_only_slots} device-only slot(s): anyone using your account on that computer "
                     "opens the vault without a face.")
    recovery_seconds = 2.0 ** (RECOVERY_BITS - 1) * guess
    notes.append(f"The recovery code ({RECOVERY_BITS} random bits) opens every mode; guessing it takes "
                 f"{human_time(recovery_seconds)}. Anyone who finds it written down can open the vault.")
    notes.append(f"False-accept and photo figures: {far.source}.")
    notes.append(f"Times are for one computer like the reference ({ref.name}); N computers need 1/N of "
                 f"the time. GPU figure: {ref.gpu_source}.")
    return ModeFigures(mode, preset_bits, k, far, passphrase_bits if mode is Mode.FACE_PASSPHRASE else None,
                       attacks, summary, tuple(notes), ref)


def describe(fig: ModeFigures) -> list[str]:
    """Plain-words lines for a screen: the summary, the cost of a guess, one line per attack,
    then the notes."""
    if fig.kdf_seconds > 0:
        cost = (f"One passphrase guess costs {fig.kdf_seconds:.2f} s of Argon2id on the reference "
                "(from the slot's stored parameters).")
    else:
        cost = ("A guess at this vault's face slot costs no key stretching (it would not slow the "
                "attacks below, which are counted in faces).")
    return [fig.summary, cost] + [f"  - {a.sentence}" for a in fig.attacks] + list(fig.notes)
