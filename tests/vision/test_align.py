"""Alignment maths on synthetic points: exact recovery, residual behaviour, no reflection."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

from tests.strategies import similarities

from facevault.vision.align import (
    ARCFACE_TEMPLATE,
    five_points,
    similarity_transform,
    transform_points,
    warp,
)


def _similarity(angle_deg: float, scale: float, tx: float, ty: float) -> np.ndarray:
    a = math.radians(angle_deg)
    r = scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return np.hstack([r, [[tx], [ty]]])


@settings(max_examples=60, deadline=None)
@given(similarities)
def test_recovers_known_similarity_exactly(similarity: tuple[float, float, float, float]) -> None:
    angle, scale, tx, ty = similarity
    m_true = _similarity(angle, scale, tx, ty)
    src = ARCFACE_TEMPLATE.astype(np.float64) * 3 + 40
    dst = transform_points(m_true, src)
    m, residual = similarity_transform(src, dst)
    np.testing.assert_allclose(m, m_true, rtol=1e-7, atol=1e-6 * max(1.0, scale) * 500)
    assert residual < 1e-6 * max(1.0, scale)


def test_residual_zero_for_exact_points_and_grows_with_noise() -> None:
    m_true = _similarity(20, 0.4, 10, -5)
    src = ARCFACE_TEMPLATE.astype(np.float64) * 4
    dst = transform_points(m_true, src)
    assert similarity_transform(src, dst)[1] < 1e-9
    rng = np.random.default_rng(0)
    noise = rng.normal(size=dst.shape)
    residuals = [similarity_transform(src, dst + k * noise)[1] for k in (0.5, 1, 2, 4)]
    assert all(b > a for a, b in zip(residuals, residuals[1:]))
    assert residuals[0] > 0.05


def test_mirrored_points_give_rotation_not_reflection() -> None:
    src = ARCFACE_TEMPLATE.astype(np.float64)
    mirrored = src.copy()
    mirrored[:, 0] = 112 - mirrored[:, 0]
    m, residual = similarity_transform(src, mirrored)
    assert np.linalg.det(m[:, :2]) > 0  # a proper rotation times a positive scale
    assert residual > 1.0  # a reflection cannot be fitted without error


def test_degenerate_and_bad_shapes_raise() -> None:
    with pytest.raises(ValueError):
        similarity_transform(np.zeros((5, 2)), ARCFACE_TEMPLATE)
    with pytest.raises(ValueError):
        similarity_transform(np.zeros((5, 3)), np.zeros((5, 3)))


def test_five_points_picks_image_left_eye_first() -> None:
    lm = np.zeros((478, 3), np.float32)
    lm[[33, 133], :2] = [[10, 50], [30, 50]]  # subject's right eye, image left
    lm[[362, 263], :2] = [[70, 50], [90, 50]]
    lm[1, :2] = [50, 70]
    lm[61, :2] = [30, 90]
    lm[291, :2] = [70, 90]
    pts = five_points(lm)
    np.testing.assert_allclose(pts, [[20, 50], [80, 50], [50, 70], [30, 90], [70, 90]])
    assert pts[0, 0] < pts[1, 0] and pts[3, 0] < pts[4, 0]


def test_warp_maps_points_onto_template() -> None:
    m_true = _similarity(-12, 2.5, 140, 60)  # template -> frame
    frame = np.zeros((480, 640, 3), np.uint8)
    frame_pts = transform_points(m_true, ARCFACE_TEMPLATE)
    for x, y in frame_pts:
        frame[int(round(y)) - 2 : int(round(y)) + 3, int(round(x)) - 2 : int(round(x)) + 3] = 255
    m, residual = similarity_transform(frame_pts, ARCFACE_TEMPLATE)
    assert residual < 1e-6
    crop = warp(frame, m)
    assert crop.shape == (112, 112, 3) and crop.dtype == np.uint8
    for x, y in ARCFACE_TEMPLATE:
        assert crop[int(round(y)), int(round(x))].max() > 100
