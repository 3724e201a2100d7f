"""ArcFace-compatible ONNX embedder: aligned 112x112 RGB crop -> 512-D unit vector.

Role: one class that owns its onnxruntime InferenceSession, the input/output names and
the preprocessing constants. The constants come from the model manifest (or the user's
registration), never guessed from the graph; the graph is only checked against them.

May import: stdlib, numpy, facevault.errors, facevault.vision.weights; onnxruntime lazily
inside the constructor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
import numpy as np

from facevault.errors import Hint, ModelError

if TYPE_CHECKING:  # pragma: no cover
    import onnxruntime

__all__ = ["EmbedderConstants", "ArcFaceEmbedder", "cpu_session_options", "constants_of_entry", "model_bytes"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbedderConstants:
    """How to feed one embedding model: x' = (x - mean) / std, NCHW float32, square input.

    Built from the manifest's (or the user's registration) preprocessing record with
    `from_record`, which refuses records whose constants are not all known."""

    input_size: int = 112
    colour_order: str = "RGB"
    mean: float = 127.0
    std: float = 128.0
    output_dim: int = 512
    input_name: str = "input"
    output_name: str = "output"

    def __post_init__(self) -> None:
        if self.colour_order not in ("RGB", "BGR"):
            raise ModelError(f"Unknown colour order {self.colour_order!r}")
        if self.input_size < 16 or self.output_dim < 1 or not self.std:
            raise ModelError("Bad embedder constants (input size, output dimension or std)")

    @classmethod
    def from_record(cls, record: object, model_name: str = "the model") -> EmbedderConstants:
        missing = [k for k in ("colour_order", "mean", "std", "input_name", "output_name",
                               "input_size", "output_dim") if getattr(record, k, None) is None]
        if missing or not getattr(record, "verified", True):
            raise ModelError(
                f"The preprocessing of {model_name} is not recorded ({', '.join(missing) or 'unverified'}).",
                hint=Hint.REGISTER_MODEL,
            )
        order = str(getattr(record, "colour_order")).upper()
        if order not in ("RGB", "BGR"):
            raise ModelError(f"Unknown colour order {order!r} for {model_name}")
        return cls(
            input_size=_size_of(getattr(record, "input_size")),
            colour_order=order,
            mean=float(getattr(record, "mean")),
            std=float(getattr(record, "std")),
            output_dim=int(getattr(record, "output_dim")),
            input_name=str(getattr(record, "input_name")),
            output_name=str(getattr(record, "output_name")),
        )


def _size_of(input_size: object) -> int:
    if isinstance(input_size, (tuple, list)):
        w, h = int(input_size[0]), int(input_size[-1])
        if w != h:
            raise ModelError(f"Only square embedder inputs are supported, got {input_size}")
        return w
    if isinstance(input_size, int):
        return input_size
    raise ModelError(f"Bad embedder input size {input_size!r}")


def cpu_session_options(threads: int) -> "onnxruntime.SessionOptions":
    """onnxruntime session options for FaceVault's models: `threads` intra-op threads, quiet."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    # No busy-waiting between ops: with the camera, MediaPipe and the GUI sharing two
    # cores, spinning threads doubled the embed time (24 ms -> 12 ms measured under load).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


def model_bytes(path: Path) -> bytes:
    """The model file's bytes as onnxruntime should get them: subnormal weights set to zero
    (vision.weights: up to 3x faster on Intel CPUs, the same embedding)."""
    from facevault.vision.weights import without_subnormals

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the face model {path.name}: {exc.strerror or exc}",
                         hint=Hint.INSTALL_MODELS) from None
    patched, _count = without_subnormals(data)
    return patched


def constants_of_entry(entry: object) -> tuple[Path, EmbedderConstants]:
    """A modelstore.ModelEntry's file and preprocessing constants (ModelError without them)."""
    name = str(getattr(entry, "name", "the model"))
    record = getattr(entry, "preprocessing", None)
    if record is None:
        raise ModelError(f"The manifest gives no preprocessing for {name}.", hint=Hint.REGISTER_MODEL)
    return Path(getattr(entry, "path")), EmbedderConstants.from_record(record, name)


class ArcFaceEmbedder:
    """Owns one onnxruntime session. embed() maps an aligned crop to a unit vector."""

    def __init__(
        self, model_path: str | Path, constants: EmbedderConstants, *, threads: int = 2
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"Face embedding model not found: {path}", hint=Hint.INSTALL_MODELS)
        if not isinstance(constants, EmbedderConstants):
            constants = EmbedderConstants.from_record(constants, path.name)
        preprocessing = constants
        self.constants = constants
        self.size = constants.input_size
        self.bgr = constants.colour_order == "BGR"
        self.mean = np.float32(preprocessing.mean)
        self.std = np.float32(preprocessing.std)
        self.output_dim = int(preprocessing.output_dim)
        self.input_name = preprocessing.input_name
        self.output_name = preprocessing.output_name

        import onnxruntime as ort

        opts = cpu_session_options(threads)
        try:
            self._session = ort.InferenceSession(
                model_bytes(path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelError(
                f"Face embedding model could not be loaded ({path.name}): {exc}",
                hint=Hint.INSTALL_MODELS,
            ) from exc
        self._check_graph(path.name)

    @classmethod
    def from_entry(cls, entry: object, *, threads: int = 2) -> ArcFaceEmbedder:
        """From a modelstore.ModelEntry (its path and preprocessing record)."""
        path, constants = constants_of_entry(entry)
        return cls(path, constants, threads=threads)

    def _check_graph(self, name: str) -> None:
        inputs = {i.name: i for i in self._session.get_inputs()}
        outputs = {o.name for o in self._session.get_outputs()}
        if self.input_name not in inputs:
            raise ModelError(
                f"{name} has no input named {self.input_name!r} (it has {sorted(inputs)}); "
                "the manifest entry does not match the file."
            )
        if self.output_name not in outputs:
            raise ModelError(
                f"{name} has no output named {self.output_name!r} (it has {sorted(outputs)})."
            )
        shape = list(inputs[self.input_name].shape)
        fixed = [d if isinstance(d, int) else None for d in shape]
        expected = (None, 3, self.size, self.size)
        if len(fixed) != 4 or any(f not in (e, None) for f, e in zip(fixed[1:], expected[1:])):
            raise ModelError(
                f"{name} expects input shape {shape}, but the manifest says "
                f"{self.size}x{self.size} NCHW with 3 channels."
            )
        self._batch_one = fixed[0] == 1  # graphs exported with batch 1 are run row by row

    def _prepare(self, crops: np.ndarray) -> np.ndarray:
        if crops.ndim != 4 or crops.shape[1:] != (self.size, self.size, 3):
            raise ValueError(
                f"expected (N, {self.size}, {self.size}, 3) uint8 RGB crops, got {crops.shape}"
            )
        x = crops[..., ::-1] if self.bgr else crops
        x = (x.astype(np.float32) - self.mean) / self.std
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def embed_batch(self, aligned_rgb: np.ndarray) -> np.ndarray:
        """(N, size, size, 3) uint8 RGB crops -> (N, output_dim) float32 unit rows."""
        x = self._prepare(np.asarray(aligned_rgb))
        if self._batch_one:
            rows = [self._session.run([self.output_name], {self.input_name: x[i : i + 1]})[0]
                    for i in range(len(x))]
            out = np.concatenate([np.asarray(r, np.float32).reshape(1, -1) for r in rows])
        else:
            out = self._session.run([self.output_name], {self.input_name: x})[0]
            out = np.asarray(out, dtype=np.float32).reshape(len(x), -1)
        if out.shape[1] != self.output_dim:
            raise ModelError(f"Embedder produced {out.shape[1]} values, manifest says {self.output_dim}")
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        if not np.all(np.isfinite(out)) or np.any(norms <= 1e-12):
            raise ModelError("Embedder produced a zero or non-finite vector; the model is broken.")
        unit: np.ndarray = (out / norms).astype(np.float32)
        return unit

    def embed(self, aligned_rgb: np.ndarray) -> np.ndarray:
        """(size, size, 3) uint8 RGB crop -> (output_dim,) float32 with unit L2 norm."""
        row: np.ndarray = self.embed_batch(np.asarray(aligned_rgb)[None])[0]
        return row
