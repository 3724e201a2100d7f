"""Passive anti-spoofing model (fr_liveness.onnx): face crop -> probability of a live face.

Role: one class, `PassiveLiveness`, that owns its onnxruntime session, the crop rule and
the preprocessing constants. The constants come from the model manifest (its fr_liveness
entry); `crop_face` is the pure crop rule, shared with the benchmark that measured them
(facevault/bench/liveness.py, docs/LIVENESS.md).

What the model is (read from the npm package's own lib/fr_liveness.js and checked by
experiment): a 3-class classifier on a 128x128 crop that is 2.7 times the face box, centred
on it and shifted to stay inside the frame, fed as raw 0..255 pixels (no mean/std), NCHW.
The package reads class 0 as "real". How well it separates live faces from photos of
photos is in docs/LIVENESS.md: it is an extra signal, never a gate on its own.

May import: stdlib, numpy, facevault.errors, facevault.modelstore, facevault.paths;
cv2 and onnxruntime lazily inside functions.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from facevault.errors import Hint, ModelError

__all__ = ["AntispoofPrep", "PassiveLiveness", "PreprocessingRecord", "ModelRecord", "crop_face", "crop_rect",
           "prep_from_manifest"]

log = logging.getLogger(__name__)

_INSTALL_HINT = Hint.INSTALL_MODELS


@dataclass(frozen=True)
class AntispoofPrep:
    """How to feed fr_liveness.onnx: x' = (x - mean) / std on a colour_order crop.

    crop_scale: side of the crop as a multiple of the face box (centred on the box).
    real_class: index of the "live face" class in the 3-way softmax.
    """

    colour_order: str = "RGB"
    mean: float = 0.0
    std: float = 1.0
    crop_scale: float = 2.7
    real_class: int = 0
    input_size: int = 128
    input_name: str = "input"
    output_name: str = "output"

    def __post_init__(self) -> None:
        if self.colour_order not in ("RGB", "BGR"):
            raise ValueError("colour_order must be RGB or BGR")
        if self.std <= 0 or self.crop_scale <= 0 or self.input_size <= 0:
            raise ValueError("std, crop_scale and input_size must be positive")
        if self.real_class not in (0, 1, 2):
            raise ValueError("real_class must be 0, 1 or 2")


def crop_rect(
    box: tuple[int, int, int, int], width: int, height: int, scale: float
) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the crop: `scale` times the box around its centre, shrunk so it
    fits the frame, then shifted (not clipped) to lie inside it, as the SDK does."""
    x, y, bw, bh = (float(v) for v in box)
    if bw <= 0 or bh <= 0:
        raise ValueError("empty face box")
    s = min((height - 1) / bh, (width - 1) / bw, scale)
    nw, nh = bw * s, bh * s
    cx, cy = x + bw / 2, y + bh / 2
    x0, y0, x1, y1 = cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2
    if x0 < 0:
        x1, x0 = x1 - x0, 0.0
    if y0 < 0:
        y1, y0 = y1 - y0, 0.0
    if x1 > width - 1:
        x0, x1 = x0 - (x1 - width + 1), float(width - 1)
    if y1 > height - 1:
        y0, y1 = y0 - (y1 - height + 1), float(height - 1)
    ix, iy = max(int(x0), 0), max(int(y0), 0)
    return ix, iy, max(1, min(int(x1 - x0), width - ix)), max(1, min(int(y1 - y0), height - iy))


def crop_face(
    rgb: np.ndarray, box: tuple[int, int, int, int], *, scale: float, size: int
) -> np.ndarray:
    """(size, size, 3) uint8 RGB crop of `scale` x the face box (see crop_rect)."""
    import cv2

    h, w = rgb.shape[:2]
    x, y, cw, ch = crop_rect(box, w, h, scale)
    patch = rgb[y : y + ch, x : x + cw]
    interp = cv2.INTER_AREA if min(cw, ch) > size else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(patch, (size, size), interpolation=interp))


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.asarray(x, np.float64) - np.max(x)
    e = np.exp(z)
    p: np.ndarray = e / e.sum()
    return p


class PreprocessingRecord(Protocol):
    """What prep_from_manifest reads of a modelstore.Preprocessing."""

    @property
    def input_size(self) -> tuple[int, int]: ...
    @property
    def colour_order(self) -> str | None: ...
    @property
    def mean(self) -> float | None: ...
    @property
    def std(self) -> float | None: ...
    @property
    def input_name(self) -> str | None: ...
    @property
    def output_name(self) -> str | None: ...
    @property
    def verified(self) -> bool: ...


class ModelRecord(Protocol):
    """What prep_from_manifest reads of a modelstore.ModelEntry."""

    @property
    def name(self) -> str: ...
    @property
    def preprocessing(self) -> PreprocessingRecord | None: ...


def prep_from_manifest(entry: ModelRecord, manifest_file: Path) -> AntispoofPrep:
    """AntispoofPrep from a modelstore entry plus the two extra fields of its JSON record
    (crop_scale, real_class), refusing an entry whose preprocessing is not verified."""
    prep = entry.preprocessing
    if prep is None or not prep.verified:
        raise ModelError(
            f"The preprocessing of {entry.name} is not verified in the manifest.",
            hint="Update models/manifest.json (see docs/LIVENESS.md).",
        )
    try:
        raw = json.loads(manifest_file.read_text(encoding="utf-8"))
        rec = next(m for m in raw["models"] if m.get("name") == entry.name)["preprocessing"]
        crop_scale, real_class = float(rec["crop_scale"]), int(rec["real_class"])
    except (OSError, ValueError, KeyError, StopIteration, TypeError) as exc:
        raise ModelError(
            f"The manifest entry of {entry.name} lacks crop_scale/real_class ({exc})."
        ) from None
    if prep.mean is None or prep.std is None:
        raise ModelError(f"The manifest gives no mean/std for {entry.name}.")
    return AntispoofPrep(
        colour_order=str(prep.colour_order), mean=float(prep.mean), std=float(prep.std),
        crop_scale=crop_scale, real_class=real_class, input_size=int(prep.input_size[0]),
        input_name=prep.input_name or "input", output_name=prep.output_name or "output",
    )


class PassiveLiveness:
    """Owns one onnxruntime session of fr_liveness.onnx and its constants."""

    def __init__(self, model_path: str | Path, prep: AntispoofPrep, *, threads: int = 1) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"Liveness model not found: {path}", hint=_INSTALL_HINT)
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                str(path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(
                f"Liveness model could not be loaded ({path.name}): {exc}", hint=_INSTALL_HINT
            ) from exc
        inputs = {i.name: i.shape for i in self._session.get_inputs()}
        outputs = {o.name: o.shape for o in self._session.get_outputs()}
        n = prep.input_size
        if inputs.get(prep.input_name) not in ([1, 3, n, n], ["batch", 3, n, n]) or (
            prep.output_name not in outputs
        ):
            raise ModelError(
                f"{path.name} has inputs {inputs} / outputs {outputs}, not "
                f"{prep.input_name}[1,3,{n},{n}] -> {prep.output_name}"
            )
        self.prep = prep

    def tensor(self, crop: np.ndarray) -> np.ndarray:
        """(1, 3, n, n) float32 input from an (n, n, 3) uint8 RGB crop."""
        img = crop[..., ::-1] if self.prep.colour_order == "BGR" else crop
        x = (img.astype(np.float32) - self.prep.mean) / self.prep.std
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None])

    def probabilities(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """(3,) float64 softmax over the model's classes for the face in `box`."""
        crop = crop_face(rgb, box, scale=self.prep.crop_scale, size=self.prep.input_size)
        out = self._session.run([self.prep.output_name], {self.prep.input_name: self.tensor(crop)})
        return _softmax(np.asarray(out[0]).reshape(-1))

    def score(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> float:
        """Probability (0..1) the model gives to "live face" for the face in `box`."""
        return float(self.probabilities(rgb, box)[self.prep.real_class])
