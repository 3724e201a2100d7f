"""Cloaking photos before they are shared (issue 16): every face of a photo gets an
identity mask (facevault.vision.cloak), the result is written as a new PNG or JPEG that
holds pixels only, and each face is checked again on the written file.

`CloakTools` loads the landmarker, the embedder and its backward graph, and the backward
graphs of the further face models the cloak crafts against (the manifest's "surrogate"
models), once for many photos. `cloak_image` cloaks an array (the benchmark and the GUI preview use it);
`cloak_file` reads a photo, cloaks it, writes it atomically (never over the input, never
through a symlink) and returns a `PhotoReport`. Both are progress generators.

The check after writing (`FaceCheck`): the written file is decoded and searched again, each
face is embedded by FaceVault's own model and compared with the same face before the cloak
(`cosine_after`), and a FaceVault key sealed to the face before the cloak (IronMask,
default preset, the unlock's list decoding) is tried with it (`opens_vault`). This is one
of the models the mask was made with, so passing it is necessary, not sufficient:
docs/CLOAK.md has what a model not used to make it sees.

May import: stdlib, numpy, facevault.core, facevault.errors, facevault.vision (lazily),
facevault.services.progress.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from facevault.core import fsutil, ironmask
from facevault.core.facekey import DecodePolicy
from facevault.errors import NoUsableFaceError, PathError, SourceError, UsageError
from facevault.services.progress import CloakProgress, Progress

if TYPE_CHECKING:
    from facevault.vision.backward import CosineGradient
    from facevault.modelstore import ModelEntry
    from facevault.vision.cloak import CloakSettings, Surrogate
    from facevault.vision.embedder import ArcFaceEmbedder
    from facevault.vision.landmarks import DetectedFace, FaceLandmarker

__all__ = ["STRENGTH_NAMES", "OWN_MODEL_THRESHOLD", "CloakTools", "FaceCheck", "PhotoReport",
           "cloak_image", "cloak_file", "check_faces", "default_output", "free_output", "PhotoDone",
           "cloak_beside", "stand_ins", "choose_stand_in", "SUFFIX", "MAX_SIDE", "MAX_FACES"]

STRENGTH_NAMES = ("low", "default", "high")
Faces = Literal["all", "largest"]
SUFFIX = "-cloaked"
MAX_SIDE = 12000  # a photo with a longer side is cloaked (and written) at this size
MAX_FACES = 20  # faces looked for per photo; a photo with this many may hold more (reported)

# FaceVault's own model: the cosine at which one in a thousand different-person pairs
# match (0.341 measured by `facevault bench cloak` on LFW DevTest, 1.2 million pairs; see
# docs/CLOAK.md). A face above it after cloaking is reported as still recognisable.
OWN_MODEL_THRESHOLD = 0.34


def _surrogate(entry: ModelEntry, threads: int) -> Surrogate:
    from facevault.vision.backward import CosineGradient
    from facevault.vision.cloak import Surrogate, crop_template

    gradient = CosineGradient.from_entry(entry, threads=threads)
    zoom = entry.preprocessing.crop_zoom if entry.preprocessing is not None else 1.0
    return Surrogate(gradient, crop_template(gradient.input_size, zoom))


class CloakTools:
    """The models a cloak needs, loaded once (ModelError when one is missing)."""

    def __init__(self, *, threads: int = 2) -> None:
        from facevault import modelstore
        from facevault.vision.backward import CosineGradient
        from facevault.vision.embedder import ArcFaceEmbedder
        from facevault.vision.landmarks import FaceLandmarker

        entry = modelstore.embedder_entry()
        self.embedder: ArcFaceEmbedder = ArcFaceEmbedder.from_entry(entry, threads=threads)
        self.gradient: CosineGradient = CosineGradient.from_entry(entry, threads=threads)
        self.landmarker: FaceLandmarker = FaceLandmarker(modelstore.model_path("landmarker"), video=False,
                                                         max_faces=MAX_FACES)
        # the ensemble: every further identity model the manifest ships for the cloak
        # (never the held-out model the benchmark judges with)
        others = modelstore.surrogate_entries()
        self.surrogates: tuple[Surrogate, ...] = tuple(_surrogate(e, threads) for e in others)
        self.model_names: tuple[str, ...] = (entry.name, *(e.name for e in others))  # crafted against

    def close(self) -> None:
        self.landmarker.close()

    def __enter__(self) -> CloakTools:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def faces(self, rgb: np.ndarray) -> list[DetectedFace]:
        from facevault.vision.cloak import find_faces

        return find_faces(self.landmarker, rgb)

    def embedding(self, rgb: np.ndarray, face: DetectedFace, template: np.ndarray | None = None) -> np.ndarray:
        from facevault.vision.cloak import aligned_crop

        return np.asarray(self.embedder.embed(aligned_crop(rgb, face.landmarks, template)), np.float64)


@dataclass(frozen=True)
class FaceCheck:
    """One face after the cloak. `found_again`: the face was detected in the written
    pixels; `cosine_after`: FaceVault's own model, cloaked vs the same face before (1.0 is
    unchanged); `opens_vault`: a key sealed to the face before the cloak opens with it."""

    box: tuple[int, int, int, int]  # x, y, width, height in the photo
    found_again: bool
    cosine_after: float | None
    opens_vault: bool
    seconds: float

    @property
    def protected(self) -> bool:
        """Not recognised by FaceVault's own model (one of the models the mask was made with)."""
        return (not self.opens_vault) and (self.cosine_after is None or self.cosine_after < OWN_MODEL_THRESHOLD)


@dataclass(frozen=True)
class PhotoReport:
    source: Path
    output: Path | None
    size: tuple[int, int]  # width, height
    faces: tuple[FaceCheck, ...] = field(default=())
    strength: str = "default"
    maybe_more: bool = False  # as many faces as the detector looks for: others may be left uncloaked

    @property
    def all_protected(self) -> bool:
        return all(f.protected for f in self.faces)

    def as_dict(self) -> dict[str, object]:
        return {"source": str(self.source), "output": str(self.output) if self.output else None,
                "width": self.size[0], "height": self.size[1], "strength": self.strength,
                "maybe_more_faces": self.maybe_more,
                "faces": [{"box": list(f.box), "found_again": f.found_again,
                           "cosine_after": None if f.cosine_after is None else round(f.cosine_after, 4),
                           "opens_vault": f.opens_vault, "protected": f.protected,
                           "seconds": round(f.seconds, 3)} for f in self.faces]}


def _settings(strength: str, seed: int | None) -> CloakSettings:
    from dataclasses import replace

    from facevault.vision.cloak import STRENGTHS

    if strength not in STRENGTHS:
        raise UsageError(f"unknown strength {strength!r}", hint="choose " + ", ".join(STRENGTH_NAMES))
    return replace(STRENGTHS[strength], seed=seed)


def stand_ins(photos: list[Path], tools: CloakTools) -> np.ndarray:
    """(K, D) unit embeddings of the largest face in each photo: identities a cloak may pull
    faces toward (TIP-IM's targeted mode). Use faces of people who agreed to it, or
    generated faces. Kept in memory only."""
    from facevault.vision.sources import decode_image

    rows = []
    for p in photos:
        rgb = decode_image(p)
        found = tools.faces(rgb)
        if not found:
            raise NoUsableFaceError(f"no face found in the stand-in photo {p}")
        rows.append(tools.embedding(rgb, found[0]))
    return np.stack(rows) if rows else np.zeros((0, 512))


def choose_stand_in(reference: np.ndarray, towards: np.ndarray) -> np.ndarray | None:
    """The stand-in nearest to the face (the easiest to pull it toward: TIP-IM's greedy
    choice, made once per face), never one that already matches it (the same person)."""
    if len(towards) == 0:
        return None
    scores = towards @ reference
    scores[scores >= OWN_MODEL_THRESHOLD] = -np.inf
    best = int(np.argmax(scores))
    return None if not np.isfinite(scores[best]) else np.asarray(towards[best])


def cloak_image(rgb: np.ndarray, tools: CloakTools, *, strength: str = "default", faces: Faces = "all",
                name: str = "the photo", seed: int | None = None, towards: np.ndarray | None = None,
                ) -> Generator[Progress, None, list[tuple[DetectedFace, np.ndarray, float]]]:
    """Cloak the faces of `rgb` ((H, W, 3) uint8) in place. Returns, per cloaked face, the
    detection, its embedding before the cloak (memory only, for the check) and the seconds
    it took. NoUsableFaceError when the photo shows no face. `towards`: stand-in identities
    (stand_ins) for the targeted mode; none: untargeted."""
    from facevault.vision.cloak import cloak_face

    settings = _settings(strength, seed)
    yield CloakProgress(name, 0, 0, 0.0)
    found = tools.faces(rgb)
    if not found:
        raise NoUsableFaceError(f"no face found in {name}",
                                hint="Nothing was written. The cloak needs a visible face.")
    if faces == "largest":
        found = found[:1]
    before = [(f, tools.embedding(rgb, f)) for f in found]
    out = []
    for i, (face, reference) in enumerate(before):
        t0 = time.perf_counter()
        toward = None if towards is None else choose_stand_in(reference, towards)
        for fraction in cloak_face(rgb, face.landmarks, reference, tools.gradient, settings,
                                   toward, tools.surrogates):
            yield CloakProgress(name, i + 1, len(before), fraction)
        out.append((face, reference, time.perf_counter() - t0))
    return out


def check_faces(pixels: np.ndarray, cloaked: list[tuple[DetectedFace, np.ndarray, float]],
                tools: CloakTools) -> tuple[FaceCheck, ...]:
    """Find each cloaked face again in `pixels` (as written) and test it (FaceCheck)."""
    from facevault.vision.landmarks import box_iou

    again = tools.faces(pixels)
    policy = DecodePolicy()
    params = ironmask.PRESETS[ironmask.DEFAULT_PRESET]
    checks = []
    for face, reference, seconds in cloaked:
        match = max(again, key=lambda g: box_iou(g.box, face.box), default=None)
        if match is None or box_iou(match.box, face.box) < 0.3:
            checks.append(FaceCheck(face.box, False, None, False, seconds))
            continue
        after = tools.embedding(pixels, match)
        helper, codeword = ironmask.enroll(reference, params)
        opens = codeword in ironmask.decode_candidates(helper, after, policy.list_candidates)
        checks.append(FaceCheck(face.box, True, float(after @ reference), opens, seconds))
    return tuple(checks)


def default_output(source: Path, folder: Path | None = None, suffix: str | None = None) -> Path:
    """`photo.jpg` -> `photo-cloaked.jpg` beside it (or in `folder`); formats other than
    JPEG and PNG are written as PNG."""
    from facevault.vision.cloak import OUTPUT_FORMATS

    ext = suffix or (source.suffix.lower() if source.suffix.lower() in OUTPUT_FORMATS else ".png")
    return (folder if folder is not None else source.parent) / f"{source.stem}{SUFFIX}{ext}"


def _check_paths(source: Path, dest: Path, overwrite: bool) -> None:
    from facevault.vision.cloak import OUTPUT_FORMATS

    if dest.suffix.lower() not in OUTPUT_FORMATS:
        raise UsageError(f"{dest.name}: the output must end in .png, .jpg or .jpeg")
    try:
        same = dest.exists() and os.path.samefile(source, dest)
    except OSError:
        same = False
    if same or dest.resolve() == source.resolve():
        raise PathError(f"{dest} is the photo being cloaked", hint="The original is never overwritten; "
                        "give another output name.")
    if dest.is_symlink():
        raise PathError(f"{dest} is a symbolic link", hint="Give a plain file name for the output.")
    fsutil.check_output(dest, overwrite=overwrite)


def cloak_file(source: Path, dest: Path, tools: CloakTools, *, strength: str = "default",
               faces: Faces = "all", overwrite: bool = False, seed: int | None = None,
               towards: np.ndarray | None = None) -> Generator[Progress, None, PhotoReport]:
    """Cloak the photo `source` into the new file `dest` (.png or .jpg), then check it."""
    from facevault.vision.cloak import encode_image
    from facevault.vision.sources import decode_image

    _check_paths(source, dest, overwrite)
    if not source.is_file():
        raise SourceError(f"{source}: not a file", hint="Give a JPEG or PNG photo.")
    rgb = decode_image(source, max_side=MAX_SIDE)
    h, w = rgb.shape[:2]
    cloaked = yield from cloak_image(rgb, tools, strength=strength, faces=faces, name=source.name, seed=seed,
                                     towards=towards)
    data = encode_image(rgb, dest.suffix)
    checks = check_faces(_decoded(data), cloaked, tools)
    with fsutil.atomic_write(dest, what=f"writing {dest}", replace=overwrite) as out:
        out.write(data)
    return PhotoReport(source, dest, (w, h), checks, strength,
                       maybe_more=faces == "all" and len(checks) >= MAX_FACES)


def _decoded(data: bytes) -> np.ndarray:
    """The pixels a reader of the written file gets (a JPEG's are not the ones encoded)."""
    from facevault.vision.cloak import decode_encoded

    return decode_encoded(data)


def free_output(source: Path) -> Path:
    """`photo-cloaked.jpg` beside `source`, or `photo-cloaked-2.jpg`... when that is taken."""
    first = default_output(source)
    candidate, n = first, 2
    while candidate.exists() or candidate.is_symlink():
        candidate = first.with_name(f"{first.stem}-{n}{first.suffix}")
        n += 1
    return candidate


@dataclass(frozen=True)
class PhotoDone:
    """One photo of `cloak_beside` finished: its report, or the error that stopped it."""

    index: int
    source: Path
    report: PhotoReport | None
    error: Exception | None = None


def cloak_beside(sources: list[Path], *, strength: str = "default", faces: Faces = "all",
                 tools: CloakTools | None = None) -> Generator[Progress | PhotoDone, None, int]:
    """Cloak each photo into a new file beside it (free_output), going on past a photo that
    fails (its PhotoDone carries the error). Loads the models once unless `tools` is given.
    Returns how many photos were written."""
    from facevault.errors import FaceVaultError

    own = tools is None
    t = CloakTools() if tools is None else tools
    written = 0
    try:
        for i, source in enumerate(sources):
            try:
                report = yield from cloak_file(source, free_output(source), t, strength=strength, faces=faces)
            except FaceVaultError as exc:
                yield PhotoDone(i, source, None, exc)
                continue
            written += 1
            yield PhotoDone(i, source, report)
    finally:
        if own:
            t.close()
    return written
