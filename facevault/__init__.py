"""FaceVault: an encrypted local vault that opens with your face.

Package layout (enforced by tests/test_layers.py):
  core/      pure: numpy, cryptography, argon2 only
  vision/    frame sources, MediaPipe landmarker, alignment, ArcFace embedder, quality gates
  services/  use cases wired from injected parts
  cli/       the argparse front end; the one place that maps errors to exit codes
  gui/       the only package that imports PySide6
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
