"""Tests for facevault.core.v1.fileformat: round trips, tamper detection, and the test vectors."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
from pathlib import Path

import pytest

from facevault.core.v1 import fileformat, slots
from facevault.core.crypto import AuthenticationError
from facevault.core.kinds import Kind
from facevault.core.kdf import TEST_PARAMS
from facevault.core.stream import CHUNK_SIZE, drain
from facevault.errors import IntegrityError, NotRecognisedError

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
SECRET = b"recovery secret"


def _encrypt(plaintext: bytes, file_key: bytes, slot_list: list[slots.Slot]) -> bytes:
    out = io.BytesIO()
    drain(fileformat.encrypt_file_stream(io.BytesIO(plaintext), out, file_key, slot_list))
    return out.getvalue()


def _decrypt(data: bytes, secret: bytes, kind: str = "recovery", *,
             known: tuple[bytes, list[slots.Slot]] | None = None) -> bytes:
    """Full decryption. With `known` = (file key, its slots), skip the KDF when the parsed
    slots are exactly those (keeps the every-byte tests fast; slot tampering has its own)."""
    src = io.BytesIO(data)
    header = fileformat.read_file_header(src)
    if known is not None and list(header.slots) == known[1]:
        out = io.BytesIO()
        drain(fileformat.decrypt_file_stream(src, header, known[0], out))
        return out.getvalue()
    key = None
    for slot in header.slots:
        if slot.kind.label == kind:
            if (slot, secret) not in _OPENED:
                _OPENED[slot, secret] = slots.try_open_slot(slot, [secret], max_tries=1)
            key = _OPENED[slot, secret]
            if key is not None:
                break
    if key is None:
        raise NotRecognisedError("Not recognised.")
    out = io.BytesIO()
    drain(fileformat.decrypt_file_stream(src, header, key, out))
    return out.getvalue()


_OPENED: dict[tuple[slots.Slot, bytes], bytes | None] = {}  # slot results are deterministic


@pytest.fixture(scope="module")
def keyed() -> tuple[bytes, list[slots.Slot]]:
    key = fileformat.new_file_key()
    return key, [
        slots.seal_slot(Kind.DEVICE, key, b"device secret", kdf=TEST_PARAMS, public=b"entry"),
        slots.seal_slot(Kind.RECOVERY, key, SECRET, kdf=TEST_PARAMS),
    ]


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 17])
def test_round_trip(keyed: tuple[bytes, list[slots.Slot]], size: int) -> None:
    key, slot_list = keyed
    data = os.urandom(size)
    sealed = _encrypt(data, key, slot_list)
    assert _decrypt(sealed, SECRET) == data
    assert _decrypt(sealed, b"device secret", "device") == data


def test_header_parse_round_trip(keyed: tuple[bytes, list[slots.Slot]]) -> None:
    key, slot_list = keyed
    sealed = _encrypt(b"x", key, slot_list)
    src = io.BytesIO(sealed)
    header = fileformat.read_file_header(src)
    assert list(header.slots) == slot_list
    assert sealed[: src.tell()] == header.raw + header.mac
    assert sealed.startswith(b"FaceVault file\n\x01")


def test_two_encryptions_differ(keyed: tuple[bytes, list[slots.Slot]]) -> None:
    key, slot_list = keyed
    a, b = _encrypt(b"same", key, slot_list), _encrypt(b"same", key, slot_list)
    assert a != b  # fresh payload nonce, so a fresh payload key


def test_every_byte_flip_detected(keyed: tuple[bytes, list[slots.Slot]]) -> None:
    key, slot_list = keyed
    sealed = _encrypt(b"short secret note", key, slot_list)
    for i in range(len(sealed)):
        bad = bytearray(sealed)
        bad[i] ^= 0x04
        with pytest.raises((IntegrityError, NotRecognisedError)):
            _decrypt(bytes(bad), SECRET, known=keyed)


def test_truncation_detected_everywhere(keyed: tuple[bytes, list[slots.Slot]]) -> None:
    key, slot_list = keyed
    sealed = _encrypt(os.urandom(CHUNK_SIZE + 5), key, slot_list)
    for cut in list(range(0, 400)) + list(range(400, len(sealed), 997)) + [len(sealed) - 1]:
        with pytest.raises(IntegrityError):
            _decrypt(sealed[:cut], SECRET, known=keyed)


def test_foreign_files_rejected_clearly() -> None:
    for data in (b"", b"age-encryption.org/v1\n", b"%PDF-1.7\n" + bytes(100), b"FaceVault fil"):
        with pytest.raises(IntegrityError, match="not a FaceVault encrypted file"):
            fileformat.read_file_header(io.BytesIO(data))


def test_wrong_file_key_fails_header_mac(keyed: tuple[bytes, list[slots.Slot]]) -> None:
    key, slot_list = keyed
    src = io.BytesIO(_encrypt(b"data", key, slot_list))
    header = fileformat.read_file_header(src)
    with pytest.raises(AuthenticationError):
        fileformat.decrypt_file_stream(src, header, bytes(32), io.BytesIO())


def test_payload_swapped_between_files_rejected(keyed: tuple[bytes, list[slots.Slot]]) -> None:
    key, slot_list = keyed
    a = _encrypt(b"file A", key, slot_list)
    b = _encrypt(b"file B", key, slot_list)
    n = len(fileformat.read_file_header(io.BytesIO(a)).raw) + 32
    with pytest.raises(AuthenticationError):
        _decrypt(a[:n] + b[n:], SECRET)


def test_input_validation(keyed: tuple[bytes, list[slots.Slot]]) -> None:
    key, slot_list = keyed
    with pytest.raises(ValueError):
        fileformat.encrypt_file_stream(io.BytesIO(), io.BytesIO(), key[:16], slot_list)
    with pytest.raises(ValueError):
        fileformat.encrypt_file_stream(io.BytesIO(), io.BytesIO(), key, [])
    with pytest.raises(TypeError):
        fileformat.decrypt_file_stream(io.BytesIO(), "header", key, io.BytesIO())  # type: ignore[arg-type]


# --- test vectors -----------------------------------------------------------------------------


def _outcome(record: dict) -> str:
    src = io.BytesIO(bytes.fromhex(record["file"]))
    try:
        header = fileformat.read_file_header(src)
    except IntegrityError:
        return "header_failure"
    secret = bytes.fromhex(record["secret"])
    key = None
    for slot in header.slots:
        if slot.kind.label == record["kind"]:
            key = slots.try_open_slot(slot, [secret], max_tries=1)
            if key is not None:
                break
    if key is None:
        return "no_match"
    out = io.BytesIO()
    try:
        progress = fileformat.decrypt_file_stream(src, header, key, out)
    except IntegrityError:
        return "header_failure"
    try:
        drain(progress)
    except IntegrityError:
        return "payload_failure"
    assert hashlib.sha256(out.getvalue()).hexdigest() == record["plaintext_sha256"]
    if "plaintext" in record:
        assert out.getvalue().hex() == record["plaintext"]
    return "success"


VECTOR_FILES = sorted(VECTORS.glob("*.json"))


def test_vectors_present() -> None:
    expected = {json.loads(p.read_text())["expected"] for p in VECTOR_FILES}
    assert expected == {"success", "header_failure", "payload_failure", "no_match"}


@pytest.mark.parametrize("path", VECTOR_FILES, ids=[p.stem for p in VECTOR_FILES])
def test_vector(path: Path) -> None:
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["expected"] in {"success", "header_failure", "payload_failure", "no_match"}
    assert _outcome(record) == record["expected"]


def test_vectors_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("make_vectors", VECTORS / "make_vectors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generated = module.vectors()
    on_disk = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in VECTOR_FILES}
    assert generated == on_disk
