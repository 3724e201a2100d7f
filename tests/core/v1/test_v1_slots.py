"""Tests for facevault.core.v1.slots: wrap/unwrap, wrong secrets, tamper and downgrade, encoding."""

from __future__ import annotations

import dataclasses
import struct

import pytest

from facevault.core.v1 import slots
from facevault.core.kinds import Kind
from facevault.core.kdf import TEST_PARAMS, KdfParams
from facevault.core.v1.slots import Slot, decode_slot, decode_slots, encode_slot, encode_slots
from facevault.errors import IntegrityError, NotRecognisedError

MASTER = bytes(range(32))
SECRET = b"correct horse"


@pytest.fixture(scope="module")
def face_slot() -> Slot:
    return slots.seal_slot(Kind.FACE, MASTER, SECRET, kdf=TEST_PARAMS, public=b"helper bytes")


def test_round_trip(face_slot: Slot) -> None:
    assert slots.open_slot(face_slot, SECRET) == MASTER
    assert face_slot.kind is Kind.FACE and face_slot.public == b"helper bytes"
    assert len(face_slot.slot_id) == 8 and len(face_slot.salt) == 16
    assert len(face_slot.nonce) == 12 and len(face_slot.wrapped_key) == 48


def test_fresh_randomness_per_seal() -> None:
    a = slots.seal_slot(Kind.RECOVERY, MASTER, SECRET, kdf=TEST_PARAMS)
    b = slots.seal_slot(Kind.RECOVERY, MASTER, SECRET, kdf=TEST_PARAMS)
    assert a.slot_id != b.slot_id and a.salt != b.salt and a.nonce != b.nonce
    assert a.wrapped_key != b.wrapped_key


def test_wrong_secret_is_not_recognised(face_slot: Slot) -> None:
    with pytest.raises(NotRecognisedError) as info:
        slots.open_slot(face_slot, b"correct horsE")
    assert str(info.value) == "Not recognised."
    with pytest.raises(NotRecognisedError):
        slots.open_slot(face_slot, b"")


@pytest.mark.parametrize(
    "change",
    [
        {"kind": Kind.DEVICE},
        {"kind": Kind.RECOVERY},
        {"kdf": KdfParams(time_cost=2, memory_kib=8192, parallelism=1)},
        {"public": b"helper bytez"},
        {"public": b""},
        {"salt": bytes(16)},
        {"slot_id": bytes(8)},
        {"nonce": bytes(12)},
    ],
)
def test_any_field_change_fails_to_open(face_slot: Slot, change: dict) -> None:
    tampered = dataclasses.replace(face_slot, **change)
    with pytest.raises(NotRecognisedError):
        slots.open_slot(tampered, SECRET)


def test_kdf_downgrade_in_encoding_fails(face_slot: Slot) -> None:
    raw = bytearray(encode_slot(face_slot))
    # KDF params sit after version(1) kind(1) slot_id(8) salt(16); time_cost is bytes 1..4.
    kdf_at = 1 + 1 + 8 + 16
    assert raw[kdf_at] == 0x02
    raw[kdf_at + 1 : kdf_at + 5] = struct.pack(">I", 2)
    with pytest.raises(NotRecognisedError):
        slots.open_slot(decode_slot(bytes(raw)), SECRET)


def test_every_byte_flip_of_encoding_fails_closed() -> None:
    slot = slots.seal_slot(Kind.DEVICE, MASTER, SECRET, kdf=TEST_PARAMS, public=b"entry")
    raw = encode_slot(slot)
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x01
        try:
            parsed = decode_slot(bytes(bad))
        except IntegrityError:
            continue
        with pytest.raises(NotRecognisedError):
            slots.open_slot(parsed, SECRET)


def test_try_open_slot_bounded(face_slot: Slot) -> None:
    seen: list[bytes] = []

    def candidates():
        for s in (b"a", b"b", SECRET, b"never"):
            seen.append(s)
            yield s

    assert slots.try_open_slot(face_slot, candidates(), max_tries=8) == MASTER
    assert seen == [b"a", b"b", SECRET]
    seen.clear()
    assert slots.try_open_slot(face_slot, candidates(), max_tries=2) is None
    assert seen == [b"a", b"b"]
    assert slots.try_open_slot(face_slot, [], max_tries=1) is None
    with pytest.raises(ValueError):
        slots.try_open_slot(face_slot, [SECRET], max_tries=0)


def test_encoding_round_trip_exact(face_slot: Slot) -> None:
    raw = encode_slot(face_slot)
    assert decode_slot(raw) == face_slot
    assert encode_slot(decode_slot(raw)) == raw
    many = [face_slot, slots.seal_slot(Kind.RECOVERY, MASTER, b"x", kdf=TEST_PARAMS)]
    blob = encode_slots(many)
    assert decode_slots(blob) == many
    assert encode_slots(decode_slots(blob)) == blob


def test_decode_rejects_malformed(face_slot: Slot) -> None:
    raw = encode_slot(face_slot)
    bad_inputs = [
        b"",
        raw[:-1],
        raw + b"\x00",
        b"\x02" + raw[1:],  # version
        raw[:1] + b"\x09" + raw[2:],  # kind
        raw[:26] + b"\x01" + raw[27:],  # KDF algorithm id
    ]
    for bad in bad_inputs:
        with pytest.raises(IntegrityError):
            decode_slot(bad)
    blob = encode_slots([face_slot])
    for bad in (blob[:-1], blob + b"\x00", b"\x00\x00", b"\x00\x02" + blob[2:], b"\x00",
                encode_slots([face_slot])[:2] + b"\xff\xff\xff\xff" + blob[6:]):
        with pytest.raises(IntegrityError):
            decode_slots(bad)
    dup = b"\x00\x02" + blob[2:] + blob[2:]
    with pytest.raises(IntegrityError):
        decode_slots(dup)


def test_input_validation() -> None:
    with pytest.raises(TypeError):
        slots.seal_slot("iris", MASTER, SECRET, kdf=TEST_PARAMS)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        slots.seal_slot(Kind.FACE, MASTER[:16], SECRET, kdf=TEST_PARAMS)
    with pytest.raises(TypeError):
        slots.seal_slot(Kind.FACE, MASTER, "secret", kdf=TEST_PARAMS)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        slots.seal_slot(Kind.FACE, MASTER, SECRET, kdf=TEST_PARAMS, public="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        encode_slots([])
    with pytest.raises(TypeError):
        slots.open_slot(b"slot", SECRET)  # type: ignore[arg-type]
