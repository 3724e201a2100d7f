"""Generate the single-file format test vectors in this folder (age testkit style).

Each vector is a JSON file: the whole encrypted file in hex, the slot kind and secret to try,
and the expected outcome, one of
    success          the payload decrypts; "plaintext_sha256" (and "plaintext" hex) given
    header_failure   the header does not parse, or its MAC does not verify
    payload_failure  the header is fine, the STREAM payload is not
    no_match         the header is fine, but no slot opens with the secret
All randomness is fixed through the private seams (slots._seal_slot_from_parts,
fileformat._encrypt_file_from_parts); the KDF uses TEST_PARAMS (8 MiB, t=1, p=1).

Run from the repository root:  .venv/bin/python tests/vectors/make_vectors.py
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import struct
from pathlib import Path

from facevault.core.v1 import fileformat, slots
from facevault.core.kinds import Kind
from facevault.core.kdf import TEST_PARAMS, KdfParams
from facevault.core.stream import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, drain

HERE = Path(__file__).resolve().parent
FILE_KEY = bytes(range(32))
SECRET = b"FaceVault test secret"
NONCE = bytes(range(100, 116))


def _slot(kind: str = "recovery", secret: bytes = SECRET, public: bytes = b"", n: int = 0,
          kdf: KdfParams = TEST_PARAMS, key: bytes = FILE_KEY) -> slots.Slot:
    return slots._seal_slot_from_parts(
        next(k for k in Kind if k.label == kind), key, secret, kdf=kdf, public=public,
        slot_id=bytes([n]) * 8, salt=bytes([0x10 + n]) * 16, nonce=bytes([0x20 + n]) * 12,
    )


def _file(plaintext: bytes, slot_list: list[slots.Slot], key: bytes = FILE_KEY) -> bytes:
    out = io.BytesIO()
    drain(fileformat._encrypt_file_from_parts(io.BytesIO(plaintext), out, key, slot_list, NONCE))
    return out.getvalue()


def _header_len(data: bytes) -> int:
    (n,) = struct.unpack_from(">I", data, len(fileformat.MAGIC) + 1)
    return len(fileformat.MAGIC) + 1 + 4 + n + 16 + 32


def _flip(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    out[at] ^= 0x01
    return bytes(out)


def vectors() -> dict[str, dict]:
    small = b"Hello, FaceVault.\n"
    big = bytes(i % 251 for i in range(CHUNK_SIZE + 100))
    exact = bytes(i % 253 for i in range(CHUNK_SIZE))
    good = _file(small, [_slot()])
    big_file = _file(big, [_slot()])
    h = _header_len(good)
    hb = _header_len(big_file)
    device = _slot("device", b"device secret", b"facevault/vault-1", 1)
    face = _slot("face", b"codeword bytes", b"FVIM fake helper", 2)
    v: dict[str, dict] = {}

    def add(name: str, expected: str, data: bytes, comment: str, kind: str = "recovery",
            secret: bytes = SECRET, plaintext: bytes = b"") -> None:
        record = {"name": name, "comment": comment, "expected": expected, "kind": kind,
                  "secret": secret.hex(), "file": data.hex()}
        if expected == "success":
            record["plaintext_sha256"] = hashlib.sha256(plaintext).hexdigest()
            if len(plaintext) <= 1024:
                record["plaintext"] = plaintext.hex()
        v[name] = record

    add("success_small", "success", good, "one slot, short payload", plaintext=small)
    add("success_empty", "success", _file(b"", [_slot()]), "empty payload: one empty final chunk")
    add("success_two_chunks", "success", big_file, "64 KiB + 100 bytes", plaintext=big)
    add("success_exact_chunk", "success", _file(exact, [_slot()]),
        "exactly 64 KiB: one full final chunk", plaintext=exact)
    add("success_third_slot", "success", _file(small, [device, face, _slot(n=3)]),
        "three slots, the matching one last", plaintext=small)
    add("success_face_slot", "success", _file(small, [device, face]),
        "face slot with public helper data", kind="face", secret=b"codeword bytes",
        plaintext=small)
    add("no_match_wrong_secret", "no_match", good, "wrong secret", secret=b"wrong secret")
    add("no_match_no_slot_of_kind", "no_match", good, "no face slot", kind="face")
    add("no_match_slot_public_changed", "no_match",
        _file(small, [dataclasses.replace(face, public=b"FVIM fake helpeR")]),
        "helper data swapped after sealing (authenticated in the slot AAD)",
        kind="face", secret=b"codeword bytes")
    add("no_match_kdf_downgrade", "no_match",
        _file(small, [dataclasses.replace(_slot(), kdf=KdfParams(1, 8192, 2))]),
        "KDF parameters changed after sealing")
    add("header_failure_bad_magic", "header_failure", b"FaceVault fil3\n" + good[15:],
        "foreign file")
    add("header_failure_version", "header_failure", good[:15] + b"\x02" + good[16:],
        "unknown version")
    add("header_failure_truncated_header", "header_failure", good[: h - 1], "cut inside MAC")
    add("header_failure_trailing_slot_byte", "header_failure",
        good[:16] + struct.pack(">I", struct.unpack_from(">I", good, 16)[0] + 1) + good[20:],
        "slot list length one too long")
    add("header_failure_mac", "header_failure", _flip(good, h - 1), "header MAC flipped")
    add("header_failure_nonce", "header_failure", _flip(good, h - 40), "payload nonce flipped")
    add("header_failure_other_file_key", "header_failure",
        _file(small, [_slot()])[:h - 32] + _file(small, [_slot()], key=bytes(32))[h - 32:],
        "MAC made with a different file key")
    add("payload_failure_flip", "payload_failure", _flip(good, h + 3), "payload byte flipped")
    add("payload_failure_tag", "payload_failure", _flip(good, len(good) - 1), "tag flipped")
    add("payload_failure_missing", "payload_failure", good[:h], "no payload at all")
    add("payload_failure_truncated_chunk", "payload_failure", big_file[: hb + ENCRYPTED_CHUNK_SIZE],
        "last chunk removed at a chunk boundary")
    add("payload_failure_trailing", "payload_failure", good + b"\x00", "trailing byte")
    add("payload_failure_mid_chunk", "payload_failure", big_file[: hb + 1000], "cut mid-chunk")
    return v


def main() -> None:
    for old in HERE.glob("*.json"):
        old.unlink()
    for name, record in vectors().items():
        (HERE / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
