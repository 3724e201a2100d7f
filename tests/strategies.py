"""Every Hypothesis strategy of the test suite, in one place (like httpx and attrs), so the
property tests share one idea of what a name, an index, a codeword or a similarity is.

Import from here; tests/test_static.py refuses strategies defined in other test modules.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from facevault.core import ironmask as im
from facevault.core.v1.index import MAX_NAME_BYTES, Entry, Index
from facevault.vision.liveness import ChallengeSettings

__all__ = ["entry_names", "entries", "indexes", "replica_scripts", "codeword_parts", "short_bytes", "similarities",
           "crop_boxes", "challenge_frames", "frame_orders", "recovery_typos", "stream_sizes"]

entry_names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                      min_size=1, max_size=60).filter(lambda s: len(s.encode()) <= MAX_NAME_BYTES)
"""A vault entry name: any Unicode text without NUL or lone surrogates, within the byte limit."""

entries = st.builds(
    Entry,
    name=entry_names,
    size=st.integers(0, 2**53),
    mtime=st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False),
    object_id=st.binary(min_size=16, max_size=16).map(bytes.hex),
    nonce=st.binary(min_size=16, max_size=16),
)


replica_scripts = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(["put", "put", "del", "sync"]), st.integers(0, 5),
              st.integers(0, 2)),
    max_size=60)
"""Steps for tests.helpers.replicas.run_script: (device, put/del/sync, name index, peer)."""


@st.composite
def indexes(draw: st.DrawFn) -> Index:
    """A vault index: distinct names and object ids, sorted by name."""
    items = draw(st.lists(entries, max_size=8, unique_by=(lambda e: e.name, lambda e: e.object_id)))
    return Index(draw(st.binary(min_size=16, max_size=16)), draw(st.integers(0, 2**40)),
                 tuple(sorted(items, key=lambda e: e.name)))


@st.composite
def codeword_parts(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray]:
    """(dim, strictly increasing indices, signs) of a valid codeword of C(dim, a), a <= 30."""
    n = draw(st.integers(2, im.MAX_DIM))
    support = sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=min(n, 30))))
    signs = draw(st.lists(st.sampled_from([-1, 1]), min_size=len(support), max_size=len(support)))
    return n, np.array(support), np.array(signs)


short_bytes = st.binary(max_size=40)
"""Arbitrary short byte strings (for parsers that must refuse or round-trip them)."""

stream_sizes = st.tuples(st.integers(0, 3), st.integers(-3, 3), st.integers(1, 97))
"""(whole 64 KiB chunks, bytes more or less, short-read size) around STREAM's boundaries."""

frame_orders = st.permutations(list(range(10)))
"""An order of the ten frames of a good liveness sequence."""

similarities = st.tuples(st.floats(-179, 179), st.floats(0.05, 20), st.floats(-500, 500),
                         st.floats(-500, 500))
"""A 2-D similarity: (angle in degrees, scale, tx, ty)."""

crop_boxes = st.tuples(st.integers(64, 1000), st.integers(64, 1000), st.floats(0.0, 1.0),
                       st.floats(0.0, 1.0), st.floats(0.05, 0.9), st.floats(1.0, 4.0))
"""(frame width, height, box x and y as fractions, box size as a fraction, crop scale)."""

challenge_frames = st.lists(
    st.tuples(st.floats(0.0, ChallengeSettings().eye_closed - 0.01), st.floats(-40.0, 40.0),
              st.integers(-5, 5)),
    max_size=60,
)
"""Frames that never close the eyes: (blink score, yaw in degrees, box shift in pixels)."""

recovery_typos = st.sets(st.integers(0, 29), min_size=1, max_size=4).flatmap(
    lambda positions: st.tuples(st.just(sorted(positions)),
                                st.lists(st.integers(1, 31), min_size=len(positions),
                                         max_size=len(positions))))
"""(positions of 1..4 mistyped symbols in a recovery code, the shift of each in the alphabet)."""
