"""Offline attack figures per vault mode, from the false-accept rate and the KDF cost.

An attacker with a copy of the vault folder is bounded only by the cost of one Argon2id
call per guess (no liveness check, no attempt limit offline). This module turns

    the IronMask preset (codebook bits), the slots' KdfParams and their measured time here,
    the false-accept rate (FAR: chance that one stranger's face decodes to your codeword),
    the true-accept rate of a photo of you (TAR), and an assumed passphrase strength

into the expected number of KDF calls, and time on one computer like this one, for three
attacks (dictionary of other people's faces, a targeted attacker with your photo, brute
force), and into plain sentences for the CLI (`facevault slots VAULT --explain`) and GUI.

Where FAR and TAR come from: `PUBLISHED` below (sources in each entry; two presets are
assumptions until measured). The seam for measurements: `facevault bench accuracy` (or
anyone) writes `measured_far_file()` as JSON

    {"source": "what was measured, on what, when",
     "presets": {"default": {"far": 2e-6, "tar": 0.91}, ...}}

and `far_estimate()` prefers it; callers can also pass an explicit FarEstimate.

May import: stdlib, facevault.core, facevault.errors, facevault.paths.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from facevault.core import recovery
from facevault.core.modes import Mode
from facevault.errors import Hint, UsageError

__all__ = [
    "FarEstimate",
    "Attack",
    "ModeFigures",
    "PUBLISHED",
    "PIN6_BITS",
    "measured_far_file",
    "load_measured",
    "far_estimate",
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
    """far: per face tried, the chance it decodes to the user's codeword (one KDF call each).
    tar: per photo of the user, the chance it decodes. measured: True only for our own
    measurement of this code (bench); False for published or assumed figures."""

    far: float
    tar: float
    source: str
    measured: bool = False

    def __post_init__(self) -> None:
        if not (0.0 < self.far < 1.0 and 0.0 < self.tar <= 1.0):
            raise ValueError("far must be in (0, 1) and tar in (0, 1]")


# Not measured by FaceVault yet. Update when `facevault bench accuracy` has numbers.
PUBLISHED: dict[str, FarEstimate] = {
    "default": FarEstimate(
        far=1e-5, tar=0.5772,
        source="C(512,16): FAR 5e-6 at TAR 99.79% on controlled sets (Kim et al., CVPR 2021, "
               "arXiv 2104.02239), rounded up to 1e-5 for in-the-wild faces; photo TAR 57.72% "
               "on LFW (Kim, Seo, Shin, Pattern Recognition 162, 2025)",
    ),
    "tolerant": FarEstimate(
        far=1e-4, tar=0.5772,
        source="C(512,12): ASSUMED 10x the default FAR (it accepts probes about 5 degrees "
               "further away); photo TAR taken from the default preset; not measured",
    ),
    "strict": FarEstimate(
        far=1e-6, tar=0.5772,
        source="C(512,20): ASSUMED a tenth of the default FAR; photo TAR taken from the "
               "default preset; not measured",
    ),
}


def measured_far_file() -> Path:
    """Where a FAR measurement of this installation is read from (see the module docstring)."""
    from facevault import paths

    return paths.data_dir() / "measured-far.json"


def load_measured(path: Path) -> dict[str, FarEstimate]:
    """Parse a measurement file; {} if it does not exist. Malformed files are a UsageError."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the FAR measurement {path}: {exc}",
                         hint=Hint.RERUN_ACCURACY) from None
    try:
        source = str(data["source"])
        return {
            str(name): FarEstimate(float(v["far"]), float(v["tar"]), f"measured: {source}", True)
            for name, v in data["presets"].items()
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"the FAR measurement {path} is malformed ({exc})",
                         hint='expected {"source": ..., "presets": {"default": {"far": x, "tar": y}}}') from None


def far_estimate(preset: str, *, measured: Mapping[str, FarEstimate] | None = None) -> FarEstimate:
    """The FAR/TAR to use for `preset`: a measurement if one is given, else PUBLISHED."""
    if measured and preset in measured:
        return measured[preset]
    try:
        return PUBLISHED[preset]
    except KeyError:
        raise UsageError(f"no false-accept figure for preset {preset!r}") from None


@dataclass(frozen=True)
class Attack:
    """One offline attack: expected KDF calls (log2) and time on one computer like this one."""

    name: str
    log2_calls: float
    seconds: float
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


def _attack(name: str, log2_calls: float, kdf_seconds: float, who: str) -> Attack:
    calls = 2.0 ** min(log2_calls, 1000.0)
    seconds = calls * kdf_seconds
    count = f"{max(calls, 1.0):,.0f}" if calls < 1e6 else f"2^{log2_calls:.0f}"
    sentence = (f"{who}: about {count} guesses, {human_time(seconds)} on one computer "
                f"like this one ({_verdict(seconds)})")
    return Attack(name, log2_calls, seconds, sentence)


def figures(
    mode: Mode,
    *,
    preset_bits: float,
    kdf_seconds: float,
    far: FarEstimate,
    passphrase_bits: float = PIN6_BITS,
    device_only_slots: int = 0,
) -> ModeFigures:
    """Expected attacker work per attack for a vault in `mode` ("face", "face+device",
    "face+passphrase"). Expected guesses: 1/p for a per-try success chance p, half the space
    for a uniform secret; factors multiply because each guess must get both right."""
    if kdf_seconds <= 0:
        raise ValueError("kdf_seconds must be positive")
    if mode is Mode.FACE:
        second, pw = 0.0, None
    elif mode is Mode.FACE_PASSPHRASE:
        second, pw = passphrase_bits, passphrase_bits
    elif mode is Mode.FACE_DEVICE:
        second, pw = float(DEVICE_SECRET_BITS), None
    else:
        raise UsageError(f"unknown mode {mode!r}")
    half = max(second - 1.0, 0.0)
    dictionary = -math.log2(far.far) + half
    photo = -math.log2(far.tar) + half
    brute = preset_bits - 1.0 + second
    attacks = (
        _attack("dictionary", dictionary, kdf_seconds,
                "With a copy of the folder and a large collection of other people's faces"),
        _attack("photo", photo, kdf_seconds, "With a copy of the folder and a clear photo of you"),
        _attack("brute force", brute, kdf_seconds, "Trying every possible key"),
    )
    notes: list[str] = []
    if mode is Mode.FACE:
        summary = ("Face only: someone with a clear photo of you and a copy of this vault folder "
                   "can open it. Your face is not a secret; this mode is for convenience and "
                   "moving the vault between computers.")
    elif mode is Mode.FACE_PASSPHRASE:
        summary = ("Face + passphrase: a copy of the folder and a photo of you are not enough; the "
                   "attacker must also guess the passphrase, one slow guess at a time.")
        notes.append(f"Assuming a passphrase worth {passphrase_bits:.0f} bits "
                     f"({'a random 6-digit PIN' if abs(passphrase_bits - PIN6_BITS) < 0.01 else 'as given'}); "
                     "4 random words from a 7776-word list are about 52 bits, 6 words about 78.")
    else:
        summary = ("Face + device: a copy of the folder and a photo of you are not enough; the "
                   "attacker also needs the 256-bit secret kept in the keyring of a paired device.")
        notes.append("Someone who can run programs as you on a paired device (malware, or your "
                     "unlocked computer) can read its keyring; with a photo of you they can open "
                     "the vault.")
    if device_only_slots:
        notes.append(f"{device_only_slots} device-only slot(s): anyone using your account on that "
                     "computer opens the vault without a face.")
    recovery_seconds = 2.0 ** (RECOVERY_BITS - 1) * kdf_seconds
    notes.append(f"The recovery code ({RECOVERY_BITS} random bits) opens every mode; guessing it "
                 f"takes {human_time(recovery_seconds)}. Anyone who finds it written down can open the vault.")
    notes.append(f"False-accept figures: {far.source}.")
    notes.append("Times are for one computer like this one; an attacker with N computers needs 1/N "
                 "of the time (Argon2id's memory cost limits how cheap each computer can be).")
    return ModeFigures(mode, preset_bits, kdf_seconds, far, pw, attacks, summary, tuple(notes))


def describe(fig: ModeFigures) -> list[str]:
    """Plain-words lines for a screen: the summary, one line per attack, then the notes."""
    lines = [fig.summary, f"One guess costs {fig.kdf_seconds:.2f} s of Argon2id here."]
    lines += [f"  - {a.sentence}" for a in fig.attacks]
    lines += fig.notes
    return lines
