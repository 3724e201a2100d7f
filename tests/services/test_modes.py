"""Two-factor modes on synthetic embeddings: face+device and face+passphrase round trips,
one factor alone never opens, mode changes, pairing a second device (in memory and through
a real Secret Service when one can be started), and no downgrade by editing the header."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from facevault.core import kdf, slots as slots_mod, vault as vault_mod
from facevault.core.vault_header import HEADER_NAME, encode_header
from facevault.errors import IntegrityError, NotRecognisedError, UsageError
from facevault.services import keys, vaults
from facevault.services.secretstore import MemoryStore
from tests.helpers.vectors import at_angle, unit

KDF = kdf.TEST_PARAMS
PASS = "correct horse battery staple"










def kinds(path: Path) -> list[str]:
    return [s.kind for s in vault_mod.read_header(path).slots]


def probe(face: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    return [at_angle(face, 20, rng)]


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("mode", vaults.MODES)
def test_every_mode_round_trips_and_the_recovery_code_works(tmp_path: Path, face, rng, mode) -> None:
    store = MemoryStore()
    created = vaults.create(tmp_path / "v", face, kdf=KDF, mode=mode, device_store=store,
                            passphrase=PASS if mode == "face+passphrase" else None)
    created.vault.add_bytes("n", b"hello")
    assert vaults.mode_of(vault_mod.read_header(tmp_path / "v").slots) == mode
    assert sorted(kinds(tmp_path / "v")) == sorted([mode, "recovery"] + (["device"] if mode == "face" else []))
    full = keys.Offer(face_embeddings=probe(face, rng), store=store, use_device=mode == "face+device",
                      passphrase=PASS if mode == "face+passphrase" else None)
    assert vaults.unlock(tmp_path / "v", full).read_bytes("n") == b"hello"
    opened = vaults.unlock(tmp_path / "v", keys.Offer(recovery_code=created.recovery_code))
    assert opened.read_bytes("n") == b"hello"


def test_passphrase_is_nfc_normalised(tmp_path: Path, face, rng) -> None:
    composed, decomposed = "caf\u00e9 na\u00efve", "cafe\u0301 nai\u0308ve"
    vaults.create(tmp_path / "v", face, kdf=KDF, mode="face+passphrase", passphrase=composed)
    offer = keys.Offer(face_embeddings=probe(face, rng), passphrase=decomposed)
    assert vaults.unlock(tmp_path / "v", offer)


def test_too_short_passphrase_is_refused_before_anything_is_written(tmp_path: Path, face) -> None:
    with pytest.raises(UsageError):
        vaults.create(tmp_path / "v", face, kdf=KDF, mode="face+passphrase", passphrase="123")
    with pytest.raises(UsageError):
        vaults.create(tmp_path / "w", face, kdf=KDF, mode="face+passphrase")
    assert not (tmp_path / "v" / HEADER_NAME).exists() and not (tmp_path / "w" / HEADER_NAME).exists()


# ---------------------------------------------------------------- one factor is not enough

def test_face_alone_and_device_alone_do_not_open_face_plus_device(tmp_path: Path, face, rng) -> None:
    store = MemoryStore()
    vaults.create(tmp_path / "v", face, kdf=KDF, mode="face+device", device_store=store)
    with pytest.raises(NotRecognisedError) as info:
        vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=probe(face, rng)))
    assert "paired device" in str(info.value)
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(use_device=True, store=store))
    with pytest.raises(NotRecognisedError):  # right device, wrong face
        vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=[unit(rng.standard_normal(512))],
                                                 use_device=True, store=store))
    with pytest.raises(NotRecognisedError):  # right face, another machine's keyring
        vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=probe(face, rng), store=MemoryStore()))
    # Offline, below the Offer logic: neither part alone is the slot secret.
    (slot,) = [s for s in vault_mod.read_header(tmp_path / "v").slots if s.kind == "face+device"]
    device_secret = store.get(keys.device_entry(slot))
    codeword = keys.face_candidates(slot, [face], keys.FaceSlotPolicy())[0]
    for secret in (device_secret, codeword, codeword + device_secret):
        with pytest.raises(NotRecognisedError):
            slots_mod.open_slot(slot, secret)
    assert slots_mod.open_slot(slot, slots_mod.combine_secrets(codeword, device_secret))


def test_face_alone_and_passphrase_alone_do_not_open_face_plus_passphrase(tmp_path: Path, face, rng) -> None:
    vaults.create(tmp_path / "v", face, kdf=KDF, mode="face+passphrase", passphrase=PASS)
    for offer in (
        keys.Offer(face_embeddings=probe(face, rng)),
        keys.Offer(passphrase=PASS),
        keys.Offer(face_embeddings=probe(face, rng), passphrase=PASS + "!"),
        keys.Offer(face_embeddings=[unit(rng.standard_normal(512))], passphrase=PASS),
    ):
        with pytest.raises(NotRecognisedError):
            vaults.unlock(tmp_path / "v", offer)
    (slot,) = [s for s in vault_mod.read_header(tmp_path / "v").slots if s.kind == "face+passphrase"]
    codeword = keys.face_candidates(slot, [face], keys.FaceSlotPolicy())[0]
    for secret in (codeword, PASS.encode()):
        with pytest.raises(NotRecognisedError):
            slots_mod.open_slot(slot, secret)


def test_combine_secrets_is_unambiguous() -> None:
    assert slots_mod.combine_secrets(b"ab", b"c") != slots_mod.combine_secrets(b"a", b"bc")
    with pytest.raises(ValueError):
        slots_mod.combine_secrets(b"codeword", b"")
    with pytest.raises(ValueError):
        slots_mod.combine_secrets(b"codeword")


# ---------------------------------------------------------------- no downgrade

def _edit_header(path: Path, edit) -> None:
    """Rewrite vault.fvh with its slot list edited and the old MAC kept (an attacker's edit)."""
    raw = (path / HEADER_NAME).read_bytes()
    slots = [edit(s) for s in vault_mod.read_header(path).slots]
    listing = slots_mod.encode_slots(slots)
    (path / HEADER_NAME).write_bytes(raw[:26] + len(listing).to_bytes(4, "big") + listing + raw[-32:])


@pytest.mark.parametrize("mode", ["face+device", "face+passphrase"])
def test_a_header_edited_to_claim_face_only_does_not_open(tmp_path: Path, face, rng, mode) -> None:
    """Two independent reasons it fails: the kind is in the slot's AAD, and the KDF input of
    a two-factor slot is combine_secrets(codeword, second), never the codeword alone."""
    store = MemoryStore()
    vaults.create(tmp_path / "v", face, kdf=KDF, mode=mode, device_store=store, passphrase=PASS)

    def as_face(s: slots_mod.Slot) -> slots_mod.Slot:
        if s.kind != mode:
            return s
        # a well-formed face slot: same salt, KDF, nonce, wrapped key; helper only as public data
        return slots_mod.Slot("face", s.slot_id, s.salt, s.kdf, keys.face_helper(s), s.nonce, s.wrapped_key)

    _edit_header(tmp_path / "v", as_face)
    assert sorted(kinds(tmp_path / "v")) == ["face", "recovery"]  # it now claims face-only ...
    with pytest.raises(NotRecognisedError):  # ... but the face alone does not open it
        vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=[face]))
    with pytest.raises(NotRecognisedError):  # nor do both factors under the wrong kind
        vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=[face], passphrase=PASS, store=store))


def test_a_forged_face_slot_fails_the_header_mac(tmp_path: Path, face, rng) -> None:
    """An attacker who adds a face slot of their own (wrapping a key they chose) gets a key,
    but not the vault's: the header MAC (and the index) refuse it."""
    vaults.create(tmp_path / "v", face, kdf=KDF, mode="face+passphrase", passphrase=PASS)
    header = vault_mod.read_header(tmp_path / "v")
    fake_key = os.urandom(32)
    forged = keys.seal_face_slot(fake_key, face, kdf=KDF)
    body = encode_header(header.vault_id, [forged, *(s for s in header.slots if s.kind == "recovery")], fake_key)
    (tmp_path / "v" / HEADER_NAME).write_bytes(body)
    key, _slot = keys.find_key(vault_mod.read_header(tmp_path / "v").slots, keys.Offer(face_embeddings=[face]))
    assert key == fake_key
    with pytest.raises(IntegrityError):
        vault_mod.open_vault(tmp_path / "v", key)


# ---------------------------------------------------------------- mode changes

def test_change_face_to_face_plus_device_rotates_and_keeps_one_sketch(tmp_path: Path, face, rng) -> None:
    store = MemoryStore()
    created = vaults.create(tmp_path / "v", face, kdf=KDF, device_store=store)
    created.vault.add_bytes("a", b"1")
    old_copy = tmp_path / "old"
    shutil.copytree(tmp_path / "v", old_copy)
    (old_face,) = [s for s in vault_mod.read_header(tmp_path / "v").slots if s.kind == "face"]
    opened = vaults.unlock_full(tmp_path / "v", keys.Offer(face_embeddings=probe(face, rng)))
    assert opened.face is not None
    out = list(vaults.change_mode(opened.vault, "face+device", face=opened.face, device_store=store))
    new_code = out[-1]
    assert isinstance(new_code, str) and new_code != created.recovery_code
    assert sorted(kinds(tmp_path / "v")) == ["face+device", "recovery"]  # device-only slot gone
    (new_slot,) = [s for s in vault_mod.read_header(tmp_path / "v").slots if s.kind == "face+device"]
    assert keys.face_helper(new_slot) == old_face.public  # same enrollment, no second sketch
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=probe(face, rng)))
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(use_device=True, store=store))
    both = keys.Offer(face_embeddings=probe(face, rng), use_device=True, store=store)
    assert vaults.unlock(tmp_path / "v", both).read_bytes("a") == b"1"
    assert vaults.unlock(tmp_path / "v", keys.Offer(recovery_code=new_code)).read_bytes("a") == b"1"
    # The old face-only copy still opens with the face, but its key is not the new one.
    old_key, _ = keys.find_key(vault_mod.read_header(old_copy).slots, keys.Offer(face_embeddings=[face]))
    with pytest.raises(IntegrityError):
        vault_mod.open_vault(tmp_path / "v", old_key)


def test_change_between_two_factor_modes_and_back_to_face(tmp_path: Path, face, rng) -> None:
    store = MemoryStore()
    created = vaults.create(tmp_path / "v", face, kdf=KDF, mode="face+device", device_store=store)
    created.vault.add_bytes("a", b"1")
    (entry,) = [keys.device_entry(s) for s in created.vault.header.slots if s.kind == "face+device"]
    opened = vaults.unlock_full(tmp_path / "v", keys.Offer(face_embeddings=probe(face, rng), store=store))
    out = list(vaults.change_mode(opened.vault, "face+passphrase", face=opened.face, passphrase=PASS,
                                  device_store=store))
    assert isinstance(out[-1], str)
    assert sorted(kinds(tmp_path / "v")) == ["face+passphrase", "recovery"]
    assert store.get(entry) is None  # the dropped device secret is forgotten
    # New passphrase in the same mode: no rotation by default, the recovery code stays.
    opened = vaults.unlock_full(tmp_path / "v", keys.Offer(face_embeddings=probe(face, rng), passphrase=PASS))
    assert list(vaults.change_mode(opened.vault, "face+passphrase", face=opened.face, passphrase="4711-2048")) == []
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=probe(face, rng), passphrase=PASS))
    offer = keys.Offer(face_embeddings=probe(face, rng), passphrase="4711-2048")
    opened = vaults.unlock_full(tmp_path / "v", offer)
    assert list(vaults.change_mode(opened.vault, "face", face=opened.face)) == []
    assert sorted(kinds(tmp_path / "v")) == ["face", "recovery"]
    assert vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=probe(face, rng))).read_bytes("a") == b"1"


def test_change_mode_from_recovery_code_needs_a_fresh_face(tmp_path: Path, face, rng) -> None:
    created = vaults.create(tmp_path / "v", face, kdf=KDF)
    opened = vaults.unlock_full(tmp_path / "v", keys.Offer(recovery_code=created.recovery_code))
    assert opened.face is None
    with pytest.raises(UsageError):
        list(vaults.change_mode(opened.vault, "face+passphrase", passphrase=PASS))
    new_face = unit(rng.standard_normal(512))
    list(vaults.change_mode(opened.vault, "face+passphrase", new_template=new_face, passphrase=PASS))
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=[face], passphrase=PASS))
    assert vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=probe(new_face, rng), passphrase=PASS))


def test_same_mode_and_device_only_slots_are_refused(tmp_path: Path, face, rng) -> None:
    store = MemoryStore()
    created = vaults.create(tmp_path / "v", face, kdf=KDF, mode="face+device", device_store=store)
    with pytest.raises(UsageError):
        list(vaults.change_mode(created.vault, "face+device", face=keys.FaceKey(b"x", b"y"), device_store=store))
    with pytest.raises(UsageError):
        vaults.enable_device(created.vault, store)
    assert sorted(kinds(tmp_path / "v")) == ["face+device", "recovery"]


def test_reenroll_keeps_a_two_factor_mode(tmp_path: Path, face, rng) -> None:
    created = vaults.create(tmp_path / "v", face, kdf=KDF, mode="face+passphrase", passphrase=PASS)
    new_face = unit(rng.standard_normal(512))
    with pytest.raises(UsageError):
        list(vaults.reenroll(created.vault, new_face))
    list(vaults.reenroll(created.vault, new_face, passphrase=PASS))
    assert sorted(kinds(tmp_path / "v")) == ["face+passphrase", "recovery"]
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=probe(face, rng), passphrase=PASS))
    assert vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=probe(new_face, rng), passphrase=PASS))


# ---------------------------------------------------------------- pairing

def test_pairing_code_round_trip_and_typos() -> None:
    slot_id, secret = os.urandom(8), os.urandom(32)
    code = keys.pairing_code(slot_id, secret)
    assert keys.parse_pairing_code(code.lower().replace("-", " ")) == (slot_id, secret)
    typo = ("1" if code[0] != "1" else "2") + code[1:]
    with pytest.raises(NotRecognisedError, match="mistyped"):
        keys.parse_pairing_code(typo)
    with pytest.raises(NotRecognisedError):
        keys.parse_pairing_code(code[:-1])


def _pair_second_device(tmp_path: Path, face, rng, store_b) -> None:
    store_a = MemoryStore()
    created = vaults.create(tmp_path / "v", face, kdf=KDF, mode="face+device", device_store=store_a)
    created.vault.add_bytes("a", b"1")
    opened = vaults.unlock_full(tmp_path / "v", keys.Offer(face_embeddings=probe(face, rng), store=store_a))
    code = vaults.pair_device(opened.vault, opened.face)
    assert kinds(tmp_path / "v").count("face+device") == 2
    with pytest.raises(NotRecognisedError):  # the code alone (no face) opens nothing
        vaults.import_device(tmp_path / "v", code, [unit(rng.standard_normal(512))], store_b)
    b = tmp_path / "copy-on-b"
    shutil.copytree(tmp_path / "v", b)  # the synced folder on the other machine
    vaults.import_device(b, code, probe(face, rng), store_b)
    slots_b = vault_mod.read_header(b).slots
    assert [s.kind for s in slots_b].count("face+device") == 2
    _, pairing_secret = keys.parse_pairing_code(code)
    assert all(store_b.get(keys.device_entry(s)) != pairing_secret for s in slots_b if s.kind == "face+device")
    with pytest.raises(NotRecognisedError, match="no pairing waiting"):  # one-time: used up
        vaults.import_device(b, code, probe(face, rng), store_b)
    offer_b = keys.Offer(face_embeddings=probe(face, rng), use_device=True, store=store_b)
    assert vaults.unlock(b, offer_b).read_bytes("a") == b"1"
    offer_a = keys.Offer(face_embeddings=probe(face, rng), use_device=True, store=store_a)
    assert vaults.unlock(b, offer_a).read_bytes("a") == b"1"
    with pytest.raises(NotRecognisedError):  # B's keyring without the face
        vaults.unlock(b, keys.Offer(use_device=True, store=store_b))
    # Remove device B from A's side by slot id; B's keyring then opens nothing.
    (b_slot,) = [s for s in slots_b if s.kind == "face+device" and store_b.get(keys.device_entry(s))]
    on_a = vaults.unlock(b, offer_a)
    assert vaults.remove_device(on_a, slot_id=b_slot.slot_id.hex()) == 1
    with pytest.raises(NotRecognisedError):
        vaults.unlock(b, offer_b)
    with pytest.raises(UsageError, match="last paired device"):
        vaults.remove_device(vaults.unlock(b, offer_a), store=store_a)
    store_b.delete(keys.device_entry(b_slot))


def test_pairing_a_second_device_in_memory(tmp_path: Path, face, rng) -> None:
    _pair_second_device(tmp_path, face, rng, MemoryStore())




def test_pairing_a_second_device_with_a_real_secret_service(tmp_path: Path, face, rng, real_keyring) -> None:
    _pair_second_device(tmp_path, face, rng, real_keyring)


# ---------------------------------------------------------------- attack figures

def test_explain_orders_the_modes_and_says_it_plainly(tmp_path: Path, face) -> None:
    from facevault.services import threat

    store = MemoryStore()
    figs = {}
    for mode in vaults.MODES:
        vaults.create(tmp_path / mode, face, kdf=KDF, mode=mode, device_store=store, passphrase=PASS)
        figs[mode] = vaults.explain(tmp_path / mode, kdf_seconds=0.5)
        assert figs[mode].mode == mode
    by = {m: {a.name: a for a in f.attacks} for m, f in figs.items()}
    assert "clear photo of you" in figs["face"].summary and "can open it" in figs["face"].summary
    far = threat.PUBLISHED["default"].far
    assert by["face"]["dictionary"].seconds == pytest.approx(0.5 / far)
    assert by["face"]["photo"].seconds < 60  # a photo opens a face-only vault at once
    assert by["face+passphrase"]["photo"].log2_calls == pytest.approx(threat.PIN6_BITS - 1 - np.log2(threat.PUBLISHED["default"].tar))
    assert by["face+device"]["photo"].log2_calls > 250
    for name in ("dictionary", "photo", "brute force"):
        assert by["face"][name].seconds < by["face+passphrase"][name].seconds < by["face+device"][name].seconds
    words = vaults.explain(tmp_path / "face+passphrase", kdf_seconds=0.5, passphrase_bits=52)
    assert {a.name: a for a in words.attacks}["photo"].log2_calls == pytest.approx(51 - np.log2(threat.PUBLISHED["default"].tar))
    assert any("device-only" in n for n in figs["face"].notes)  # the face vault got a device slot
    assert all(isinstance(line, str) and line for line in threat.describe(figs["face"]))


def test_a_measured_far_replaces_the_published_one(tmp_path: Path, face) -> None:
    from facevault.services import threat

    f = tmp_path / "m.json"
    f.write_text('{"source": "bench accuracy on LFW, 2025-01-01", "presets": {"default": {"far": 1e-3, "tar": 0.9}}}')
    measured = threat.load_measured(f)
    assert measured["default"].measured and "bench accuracy" in measured["default"].source
    assert threat.load_measured(tmp_path / "absent.json") == {}
    vaults.create(tmp_path / "v", face, kdf=KDF)
    fig = vaults.explain(tmp_path / "v", kdf_seconds=1.0, measured=measured)
    assert {a.name: a for a in fig.attacks}["dictionary"].seconds == pytest.approx(1000.0)
    f.write_text('{"presets": {}}')
    with pytest.raises(UsageError):
        threat.load_measured(f)
