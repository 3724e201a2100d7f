"""Synthetic unit embeddings for fast tests of IronMask, slots and vault services."""

from __future__ import annotations

import numpy as np


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def at_angle(t: np.ndarray, degrees: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector at exactly `degrees` from t (isotropic noise direction)."""
    noise = rng.standard_normal(t.shape[0])
    noise -= noise @ t * t
    noise /= np.linalg.norm(noise)
    theta = np.radians(degrees)
    return unit(np.cos(theta) * t + np.sin(theta) * noise)
