"""core/expander: determinism from the seed, unit outputs, the kernel it promises, and the
linear kind's subspace (the shortcut the non-linear kinds exist to avoid)."""

from __future__ import annotations

import numpy as np
import pytest

from facevault.bench import expander

SEED = bytes(range(32))


def _pair(rho: float, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    s = rng.standard_normal(n)
    s /= np.linalg.norm(s)
    o = rng.standard_normal(n)
    o -= (o @ s) * s
    o /= np.linalg.norm(o)
    return s, rho * s + np.sqrt(1 - rho * rho) * o


def test_deterministic_unit_and_seed_dependent() -> None:
    spec = expander.ExpanderSpec("mix50", 64, 256)
    x = np.random.default_rng(0).standard_normal((3, 64))
    a, b = expander.expand(x, spec, SEED), expander.expand(x, spec, SEED)
    assert np.array_equal(a, b) and a.shape == (3, 256)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    assert not np.allclose(a, expander.expand(x, spec, bytes(32)))
    assert np.allclose(expander.expand(x[0], spec, SEED), a[0])


@pytest.mark.parametrize("kind", ["linear", "mix50", "mix25"])
@pytest.mark.parametrize("rho", [0.0, 0.4, 0.7])
def test_cosine_follows_the_kernel(kind: str, rho: float) -> None:
    rng = np.random.default_rng(1)
    spec = expander.ExpanderSpec(kind, 128, 4096)
    got = []
    for _ in range(4):
        s, t = _pair(rho, 128, rng)
        f = expander.expand(np.stack([s, t]), spec, rng.bytes(32))
        got.append(f[0] @ f[1])
    assert abs(np.mean(got) - expander.expected_cosine(kind, rho)) < 0.04


def test_nonlinear_contracts_and_linear_lies_in_a_subspace() -> None:
    assert expander.expected_cosine("linear", 0.65) == pytest.approx(0.65)
    assert expander.expected_cosine("mix50", 0.65) < 0.6
    spec = expander.ExpanderSpec("linear", 16, 64)
    x = np.random.default_rng(2).standard_normal((40, 16))
    assert np.linalg.matrix_rank(expander.expand(x, spec, SEED), tol=1e-8) == 16
    spec = expander.ExpanderSpec("mix25", 16, 64)
    assert np.linalg.matrix_rank(expander.expand(x, spec, SEED), tol=1e-8) == 40


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        expander.ExpanderSpec("relu", 8, 16)
    with pytest.raises(ValueError):
        expander.ExpanderSpec("mix50", 16, 8)
    spec = expander.ExpanderSpec("mix50", 8, 16)
    with pytest.raises(ValueError):
        expander.expand(np.zeros(8), spec, SEED)
    with pytest.raises(ValueError):
        expander.expand(np.ones(8), spec, b"short")
