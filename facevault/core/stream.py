"""STREAM chunked authenticated encryption (age's payload format) for FaceVault.

The plaintext is cut into 64 KiB chunks; chunk i is sealed with ChaCha20-Poly1305 under
nonce = 11-byte big-endian i || flag, where flag is 0x01 on the last chunk and 0x00 on
every other. There is no associated data. The ciphertext is the concatenation of the
sealed chunks (each chunk's ciphertext followed by its 16-byte tag); nothing else.

Rules (as in age): an empty plaintext is exactly one empty final chunk; otherwise the last
chunk is never empty, so every non-final chunk is full. The reader rejects a missing last
chunk (truncation), an empty last chunk in a multi-chunk stream, data after the last chunk,
reordered or foreign chunks, and counter overflow - all as one AuthenticationError.

The nonces are deterministic, so a KEY MUST NEVER ENCRYPT TWO STREAMS. Callers derive a
fresh key per stream (e.g. HKDF of a file key with a random per-file salt); this module
cannot check that.

Memory stays flat: at most two chunks are buffered whatever the size of the stream.

May import: stdlib, cryptography, facevault.core.crypto, facevault.errors.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from facevault.core.crypto import KEY_SIZE, AuthenticationError
from facevault.errors import IntegrityError

__all__ = [
    "CHUNK_SIZE",
    "TAG_SIZE",
    "ENCRYPTED_CHUNK_SIZE",
    "encrypt_stream",
    "decrypt_stream",
    "encrypted_size",
    "plaintext_size",
    "seal_blob",
    "open_blob",
    "drain",
]

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
_COUNTER_LIMIT = 1 << 88  # 11-byte counter


def _nonce(counter: int, last: bool) -> bytes:
    if counter >= _COUNTER_LIMIT:
        raise AuthenticationError("STREAM chunk counter overflow.")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _aead(key: bytes) -> ChaCha20Poly1305:
    if not isinstance(key, (bytes, bytearray)):
        raise TypeError(f"key must be bytes, not {type(key).__name__}")
    if len(key) != KEY_SIZE:
        raise ValueError(f"key must be {KEY_SIZE} bytes")
    return ChaCha20Poly1305(bytes(key))


def _read_full(src: BinaryIO, buf: memoryview) -> int:
    """Fill `buf` from `src`; return the number of bytes read (short only at end of input)."""
    readinto = getattr(src, "readinto", None)
    total = 0
    size = len(buf)
    while total < size:
        if readinto is not None:
            n = readinto(buf[total:])
        else:
            data = src.read(size - total)
            n = len(data)
            buf[total : total + n] = data
        if n is None:  # non-blocking stream with nothing ready
            raise IntegrityError("The input stream is non-blocking; STREAM needs a blocking one.")
        if n == 0:
            break
        total += n
    return total


def encrypt_stream(key: bytes, src: BinaryIO, dst: BinaryIO) -> Iterator[int]:
    """Encrypt `src` into `dst`; a generator yielding the plaintext bytes done after each chunk.

    The key is checked at call time; nothing is read or written until the generator is
    iterated. Stopping early leaves `dst` incomplete (it will not decrypt: no last chunk).
    """
    return _encrypt(_aead(key), src, dst)


def _chunks(src: BinaryIO, size: int) -> Iterator[tuple[memoryview, bool]]:
    """`src` in pieces of `size` bytes (only the last may be shorter, or empty for an empty
    source), each with a flag telling whether it is the last. One piece of read-ahead tells
    which is last; a yielded view is valid until the next step (two buffers, swapped)."""
    cur = memoryview(bytearray(size))
    nxt = memoryview(bytearray(size))
    n_cur = _read_full(src, cur)
    while True:
        n_nxt = _read_full(src, nxt) if n_cur == size else 0
        last = n_nxt == 0
        yield cur[:n_cur], last
        if last:
            return
        cur, nxt = nxt, cur
        n_cur = n_nxt


def _encrypt(aead: ChaCha20Poly1305, src: BinaryIO, dst: BinaryIO) -> Iterator[int]:
    out = memoryview(bytearray(ENCRYPTED_CHUNK_SIZE))
    done = 0
    for counter, (chunk, last) in enumerate(_chunks(src, CHUNK_SIZE)):
        n = len(chunk)
        aead.encrypt_into(_nonce(counter, last), chunk, None, out[: n + TAG_SIZE])
        dst.write(out[: n + TAG_SIZE])
        done += n
        yield done


def decrypt_stream(key: bytes, src: BinaryIO, dst: BinaryIO) -> Iterator[int]:
    """Decrypt `src` into `dst`; a generator yielding the plaintext bytes written so far.

    Raises AuthenticationError (an IntegrityError) on any tampering, truncation, reordering
    or trailing data. Plaintext of the chunks before the failing one HAS ALREADY BEEN WRITTEN
    to `dst`: write to a temporary file and rename it into place only after the generator
    has completed without error. The key is checked at call time.
    """
    return _decrypt(_aead(key), src, dst)


def _decrypt(aead: ChaCha20Poly1305, src: BinaryIO, dst: BinaryIO) -> Iterator[int]:
    out = memoryview(bytearray(CHUNK_SIZE))
    done = 0
    for counter, (chunk, last) in enumerate(_chunks(src, ENCRYPTED_CHUNK_SIZE)):
        if len(chunk) < TAG_SIZE:
            raise AuthenticationError("The encrypted data is truncated.")
        if last and counter > 0 and len(chunk) == TAG_SIZE:
            raise AuthenticationError("The encrypted data ends with an empty chunk.")
        n_plain = len(chunk) - TAG_SIZE
        try:
            aead.decrypt_into(_nonce(counter, last), chunk, None, out[:n_plain])
        except InvalidTag:
            raise AuthenticationError() from None
        dst.write(out[:n_plain])
        done += n_plain
        yield done


def drain(progress: Iterator[int]) -> int:
    """Run a progress generator to the end; return its last value (0 if it yields nothing)."""
    last = 0
    for last in progress:
        pass
    return last


def encrypted_size(plaintext_size: int) -> int:
    """Size of the STREAM ciphertext of `plaintext_size` bytes."""
    if not isinstance(plaintext_size, int) or isinstance(plaintext_size, bool):
        raise TypeError("plaintext_size must be an int")
    if plaintext_size < 0:
        raise ValueError("plaintext_size must be non-negative")
    chunks = max(1, -(-plaintext_size // CHUNK_SIZE))
    return plaintext_size + chunks * TAG_SIZE


def plaintext_size(encrypted_size: int) -> int:
    """Inverse of encrypted_size; raises IntegrityError if no valid stream has that size."""
    if not isinstance(encrypted_size, int) or isinstance(encrypted_size, bool):
        raise TypeError("encrypted_size must be an int")
    if encrypted_size < TAG_SIZE:
        raise IntegrityError("The encrypted data is too short to be a STREAM.")
    chunks = -(-encrypted_size // ENCRYPTED_CHUNK_SIZE)
    last = encrypted_size - (chunks - 1) * ENCRYPTED_CHUNK_SIZE
    if chunks > 1 and last == TAG_SIZE:
        raise IntegrityError("The encrypted data ends with an empty chunk.")
    if last < TAG_SIZE:
        raise IntegrityError("The encrypted data has an impossible size (truncated chunk).")
    return encrypted_size - chunks * TAG_SIZE


def seal_blob(key: bytes, data: bytes) -> bytes:
    """STREAM-encrypt a small in-memory blob (same format as encrypt_stream)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    out = io.BytesIO()
    drain(encrypt_stream(key, io.BytesIO(bytes(data)), out))
    return out.getvalue()


def open_blob(key: bytes, data: bytes) -> bytes:
    """Decrypt a blob made by seal_blob; raises AuthenticationError on any tampering."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    out = io.BytesIO()
    drain(decrypt_stream(key, io.BytesIO(bytes(data)), out))
    return out.getvalue()
