"""Tests for facevault.core.stream (age STREAM): round trips, tampering, truncation."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given, settings

from tests.strategies import stream_sizes

from facevault.core import stream
from facevault.core.crypto import AuthenticationError, aead_seal
from facevault.core.stream import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, TAG_SIZE
from facevault.errors import IntegrityError

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
C = ENCRYPTED_CHUNK_SIZE


def _data(n: int) -> bytes:
    return os.urandom(n)


def _nonce(i: int, last: bool) -> bytes:
    return i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


@pytest.mark.parametrize(
    "size", [0, 1, 100, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE + 7]
)
def test_round_trip(size: int) -> None:
    data = _data(size)
    sealed = stream.seal_blob(KEY, data)
    assert len(sealed) == stream.encrypted_size(size)
    assert stream.plaintext_size(len(sealed)) == size
    assert stream.open_blob(KEY, sealed) == data


def test_progress_is_cumulative_and_per_chunk() -> None:
    data = _data(2 * CHUNK_SIZE + 5)
    out = io.BytesIO()
    progress = list(stream.encrypt_stream(KEY, io.BytesIO(data), out))
    assert progress == [CHUNK_SIZE, 2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 5]
    back = io.BytesIO()
    assert list(stream.decrypt_stream(KEY, io.BytesIO(out.getvalue()), back)) == progress
    assert back.getvalue() == data


def test_empty_plaintext_is_one_empty_final_chunk() -> None:
    sealed = stream.seal_blob(KEY, b"")
    assert sealed == aead_seal(KEY, _nonce(0, True), b"")
    assert len(sealed) == TAG_SIZE


def test_matches_independent_construction() -> None:
    """Build the STREAM by hand from the AEAD primitive: the nonce layout is what we say."""
    data = _data(CHUNK_SIZE * 2 + 3)
    expected = (
        aead_seal(KEY, _nonce(0, False), data[:CHUNK_SIZE])
        + aead_seal(KEY, _nonce(1, False), data[CHUNK_SIZE : 2 * CHUNK_SIZE])
        + aead_seal(KEY, _nonce(2, True), data[2 * CHUNK_SIZE :])
    )
    assert stream.seal_blob(KEY, data) == expected


def test_exact_multiple_has_full_last_chunk() -> None:
    data = _data(2 * CHUNK_SIZE)
    sealed = stream.seal_blob(KEY, data)
    assert len(sealed) == 2 * C
    assert sealed[C:] == aead_seal(KEY, _nonce(1, True), data[CHUNK_SIZE:])


@settings(max_examples=40, deadline=None)
@given(stream_sizes)
def test_round_trip_near_boundaries_with_short_reads(sizes: tuple[int, int, int]) -> None:
    n_chunks, offset, split = sizes
    size = max(0, n_chunks * CHUNK_SIZE + offset)
    data = _data(size)

    class Dribble(io.RawIOBase):
        """A source that returns at most `split` bytes per read, like a pipe."""

        def __init__(self, payload: bytes) -> None:
            self._buf = io.BytesIO(payload)

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
            chunk = self._buf.read(min(len(b), split))
            b[: len(chunk)] = chunk
            return len(chunk)

    out = io.BytesIO()
    stream.drain(stream.encrypt_stream(KEY, Dribble(data), out))
    assert out.getvalue() == stream.seal_blob(KEY, data)
    back = io.BytesIO()
    stream.drain(stream.decrypt_stream(KEY, Dribble(out.getvalue()), back))
    assert back.getvalue() == data


def test_every_single_byte_flip_is_detected() -> None:
    sealed = stream.seal_blob(KEY, b"a small secret note")
    for i in range(len(sealed)):
        for bit in (0x01, 0x80):
            bad = bytearray(sealed)
            bad[i] ^= bit
            with pytest.raises(AuthenticationError):
                stream.open_blob(KEY, bytes(bad))


def test_wrong_key() -> None:
    with pytest.raises(AuthenticationError):
        stream.open_blob(OTHER_KEY, stream.seal_blob(KEY, b"x"))


def test_truncation_at_every_chunk_boundary_and_mid_chunk() -> None:
    data = _data(3 * CHUNK_SIZE + 10)
    sealed = stream.seal_blob(KEY, data)
    cuts = [0, 1, TAG_SIZE - 1, TAG_SIZE, C // 2]
    for k in (1, 2, 3):
        cuts += [k * C - 1, k * C, k * C + 1, k * C + TAG_SIZE, k * C + C // 2]
    cuts.append(len(sealed) - 1)
    cuts = [cut for cut in cuts if cut < len(sealed)]
    assert len(cuts) > 15
    for cut in cuts:
        with pytest.raises(IntegrityError):
            stream.open_blob(KEY, sealed[:cut])


def test_trailing_data_rejected() -> None:
    for size in (0, 5, CHUNK_SIZE, CHUNK_SIZE + 5):
        sealed = stream.seal_blob(KEY, _data(size))
        for extra in (b"\x00", bytes(TAG_SIZE), sealed[-TAG_SIZE:], sealed):
            with pytest.raises(AuthenticationError):
                stream.open_blob(KEY, sealed + extra)


def test_reordered_chunks_rejected() -> None:
    sealed = stream.seal_blob(KEY, _data(3 * CHUNK_SIZE + 1))
    c0, c1, c2, last = sealed[:C], sealed[C : 2 * C], sealed[2 * C : 3 * C], sealed[3 * C :]
    for bad in (c1 + c0 + c2 + last, c0 + c2 + c1 + last, c0 + c1 + c2 + c2 + last, c0 + c1 + last):
        with pytest.raises(AuthenticationError):
            stream.open_blob(KEY, bad)


def test_chunks_swapped_between_streams_rejected() -> None:
    a = stream.seal_blob(KEY, _data(2 * CHUNK_SIZE + 1))
    b = stream.seal_blob(OTHER_KEY, _data(2 * CHUNK_SIZE + 1))
    with pytest.raises(AuthenticationError):
        stream.open_blob(KEY, a[:C] + b[C : 2 * C] + a[2 * C :])


def test_empty_last_chunk_rejected() -> None:
    """A stream whose full chunks are followed by an empty final chunk (a non-age writer)."""
    data = _data(CHUNK_SIZE)
    bad = aead_seal(KEY, _nonce(0, False), data) + aead_seal(KEY, _nonce(1, True), b"")
    with pytest.raises(AuthenticationError):
        stream.open_blob(KEY, bad)


def test_last_chunk_marked_not_last_rejected() -> None:
    data = _data(10)
    with pytest.raises(AuthenticationError):
        stream.open_blob(KEY, aead_seal(KEY, _nonce(0, False), data))


def test_earlier_chunks_written_before_failure() -> None:
    """Documented behaviour: callers must use a temp file, because plaintext leaks out first."""
    data = _data(2 * CHUNK_SIZE + 1)
    sealed = bytearray(stream.seal_blob(KEY, data))
    sealed[-1] ^= 1
    out = io.BytesIO()
    with pytest.raises(AuthenticationError):
        stream.drain(stream.decrypt_stream(KEY, io.BytesIO(bytes(sealed)), out))
    assert out.getvalue() == data[: 2 * CHUNK_SIZE]


def test_counter_overflow_rejected() -> None:
    with pytest.raises(AuthenticationError):
        stream._nonce(1 << 88, False)
    assert stream._nonce((1 << 88) - 1, True) == b"\xff" * 11 + b"\x01"


def test_sizes() -> None:
    assert stream.encrypted_size(0) == TAG_SIZE
    assert stream.encrypted_size(CHUNK_SIZE) == C
    assert stream.encrypted_size(CHUNK_SIZE + 1) == C + 1 + TAG_SIZE
    for n in (0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 10 * CHUNK_SIZE + 99):
        assert stream.plaintext_size(stream.encrypted_size(n)) == n
    for impossible in (0, TAG_SIZE - 1, C + TAG_SIZE, C + 3, 2 * C + TAG_SIZE):
        with pytest.raises(IntegrityError):
            stream.plaintext_size(impossible)
    with pytest.raises(ValueError):
        stream.encrypted_size(-1)
    with pytest.raises(TypeError):
        stream.plaintext_size("16")  # type: ignore[arg-type]


def test_key_validation() -> None:
    with pytest.raises(ValueError):  # at call time, before any iteration
        stream.encrypt_stream(bytes(31), io.BytesIO(), io.BytesIO())
    with pytest.raises(ValueError):
        stream.decrypt_stream(bytes(33), io.BytesIO(), io.BytesIO())
    with pytest.raises(ValueError):
        stream.seal_blob(bytes(16), b"x")
    with pytest.raises(TypeError):
        stream.seal_blob("k" * 32, b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        stream.seal_blob(KEY, "text")  # type: ignore[arg-type]
