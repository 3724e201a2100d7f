"""Two-factor modes on synthetic embeddings: face+device and face+passphrase round trips,
one factor alone never opens (the stored helper of a two-factor slot ranks no face), mode
changes are new epochs an old header cannot follow, pairing a second device (in memory and
through a real Secret Service when one can be started), and no downgrade by editing the
header."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from facevault.core import facekey, ironmask, kdf
from facevault.core.facekey import DecodePolicy, EnrolledFace
from facevault.core.factors import Factors
from facevault.core.header import encode_header, parse_header, stanza_context
from facevault.core.kinds import Kind
from facevault.core.modes import Mode
from facevault.core.pairing import pairing_code, parse_pairing_code
from facevault.core.slots import Slot, combine_secrets, open_stanza
from facevault.errors import IntegrityError, NotRecognisedError, TrustError, UsageError
from facevault.services import devices
from facevault.services.inspect import explain
from facevault.services.keyslots import entry_of
from facevault.services.modes import change_mode, reenroll
from facevault.services.progress import drive
from facevault.services.secretstore import MemoryStore
from facevault.services.trust import PinStore
from facevault.services.unlock import LockedVault
from tests.helpers.vaults import create, kinds, offer, unlock, unlock_full
from tests.helpers.vectors import at_angle, unit

KDF = kdf.TEST_PARAMS
PASS = "correct horse battery staple"
MODES = [m.label for m in Mode]


def probe(face: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    return [at_angle(face, 20, rng)]


def slots_of(path: Path) -> list[Slot]:
    return list(LockedVault.read(path).headers.best.slots)


def opens_offline(path: Path, slot: Slot, secret: bytes) -> bool:
    """Whether `secret` opens `slot`'s stanza in the current header (below the offer logic)."""
    header = LockedVault.read(path).headers.best
    (stanza,) = [s for s in header.stanzas if s.slot_id == slot.slot_id]
    return open_stanza(slot, stanza, secret, stanza_context(header.vault_id, header.epoch)) is not None


def elsewhere(tmp_path: Path) -> PinStore:
    """The pins of another computer that never opened the vault."""
    return PinStore(tmp_path / "other-computer-pins")


# ---------------------------------------------------------------- round trips

@pytest.mark.parametrize("mode", MODES)
def test_every_mode_round_trips_and_the_recovery_code_works(tmp_path: Path, face, rng, mode) -> None:
    store = MemoryStore()
    created = create(tmp_path / "v", face, kdf=KDF, mode=mode, device_store=store,
                     passphrase=PASS if mode == "face+passphrase" else None)
    created.vault.add_bytes("n", b"hello")
    assert LockedVault.read(tmp_path / "v").mode is Mode(mode)
    assert sorted(kinds(tmp_path / "v")) == sorted([mode, "recovery"] + (["device"] if mode == "face" else []))
    full = offer(faces=probe(face, rng), store=store if mode == "face+device" else None,
                 passphrase=PASS if mode == "face+passphrase" else None)
    assert unlock(tmp_path / "v", full).read_bytes("n") == b"hello"
    opened = unlock(tmp_path / "v", offer(code=created.recovery_code))
    assert opened.read_bytes("n") == b"hello"


def test_passphrase_is_nfc_normalised(tmp_path: Path, face, rng) -> None:
    composed, decomposed = "caf\u00e9 na\u00efve", "cafe\u0301 nai\u0308ve"
    create(tmp_path / "v", face, kdf=KDF, mode="face+passphrase", passphrase=composed)
    factors = offer(faces=probe(face, rng), passphrase=decomposed)
    assert unlock(tmp_path / "v", factors)


def test_too_short_passphrase_is_refused_before_anything_is_written(tmp_path: Path, face) -> None:
    with pytest.raises(UsageError):
        create(tmp_path / "v", face, kdf=KDF, mode="face+passphrase", passphrase="123")
    with pytest.raises(UsageError):
        create(tmp_path / "w", face, kdf=KDF, mode="face+passphrase")
    assert not (tmp_path / "v" / "headers").exists() and not (tmp_path / "w" / "headers").exists()


# ---------------------------------------------------------------- one factor is not enough

def test_face_alone_and_device_alone_do_not_open_face_plus_device(tmp_path: Path, face, rng) -> None:
    store = MemoryStore()
    create(tmp_path / "v", face, kdf=KDF, mode="face+device", device_store=store)
    with pytest.raises(NotRecognisedError) as info:
        unlock(tmp_path / "v", offer(faces=probe(face, rng)))
    assert "paired device" in str(info.value)
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(store=store))
    with pytest.raises(NotRecognisedError):  # right device, wrong face
        unlock(tmp_path / "v", offer(faces=[unit(rng.standard_normal(512))], store=store))
    with pytest.raises(NotRecognisedError):  # right face, another machine's keyring
        unlock(tmp_path / "v", offer(faces=probe(face, rng), store=MemoryStore()))
    # Offline, below the Offer logic: neither part alone is the slot secret.
    (slot,) = [s for s in slots_of(tmp_path / "v") if s.kind is Kind.FACE_DEVICE]
    device_secret = store.get(entry_of(slot))
    guess = Kind.FACE_DEVICE.spec.guesses(slot, offer(faces=[face], store=store), DecodePolicy())[0]
    codeword = guess.face.codeword
    for secret in (device_secret, codeword, codeword + device_secret):
        assert not opens_offline(tmp_path / "v", slot, secret)
    assert opens_offline(tmp_path / "v", slot, combine_secrets(codeword, device_secret))


def test_face_alone_and_passphrase_alone_do_not_open_face_plus_passphrase(tmp_path: Path, face, rng) -> None:
    create(tmp_path / "v", face, kdf=KDF, mode="face+passphrase", passphrase=PASS)
    for factors in (
        offer(faces=probe(face, rng)),
        offer(passphrase=PASS),
        offer(faces=probe(face, rng), passphrase=PASS + "!"),
        offer(faces=[unit(rng.standard_normal(512))], passphrase=PASS),
    ):
        with pytest.raises(NotRecognisedError):
            unlock(tmp_path / "v", factors)
    (slot,) = [s for s in slots_of(tmp_path / "v") if s.kind is Kind.FACE_PASSPHRASE]
    guess = Kind.FACE_PASSPHRASE.spec.guesses(slot, offer(faces=[face], passphrase=PASS), DecodePolicy())[0]
    for secret in (guess.face.codeword, PASS.encode(), guess.secret + b"x"):
        assert not opens_offline(tmp_path / "v", slot, secret)
    assert opens_offline(tmp_path / "v", slot, guess.secret)


@pytest.mark.parametrize("mode", ["face+device", "face+passphrase"])
def test_the_stored_helper_of_a_two_factor_slot_ranks_no_face(tmp_path: Path, face, rng, mode) -> None:
    """Without the second factor, decoding the stored (hidden) helper with the enrolled face
    itself gives a codeword no better than another face's: the helper is no free oracle."""
    store = MemoryStore()
    create(tmp_path / "v", face, kdf=KDF, mode=mode, device_store=store, passphrase=PASS)
    (slot,) = [s for s in slots_of(tmp_path / "v") if s.kind.label == mode]
    stored = ironmask.helper_from_bytes(slot.kind.spec.helper(slot.public))
    full = offer(faces=[face], store=store, passphrase=PASS)
    real = slot.kind.spec.guesses(slot, full, DecodePolicy())[0].face.codeword
    hidden_guess = facekey.codeword_guesses(stored, [face], DecodePolicy(max_tries=1))[0]
    assert hidden_guess != real
    # the score an attacker would rank by: |<P' f, c>| for the true face vs strangers
    def score(f: np.ndarray) -> float:
        y = stored.matrix.T @ f if stored.matrix.shape[0] == f.shape[0] else stored.matrix @ f
        return float(np.sort(np.abs(y))[-stored.params.alpha:].sum())
    strangers = [score(unit(rng.standard_normal(512))) for _ in range(200)]
    assert sum(x >= score(face) for x in strangers) > 5  # the true face is not singled out


def test_combine_secrets_is_unambiguous() -> None:
    assert combine_secrets(b"ab", b"c") != combine_secrets(b"a", b"bc")
    with pytest.raises(ValueError):
        combine_secrets(b"codeword", b"")
    with pytest.raises(ValueError):
        combine_secrets(b"codeword")


# ---------------------------------------------------------------- no downgrade

def _rewrite_header(path: Path, edit, key: bytes | None = None) -> None:
    """Replace the current header file by one with its slots edited, MAC'd under `key` (an
    attacker's key: he never has the vault's)."""
    locked = LockedVault.read(path)
    h = locked.headers.best
    data = encode_header(vault_id=h.vault_id, epoch=h.epoch, time=h.time, mode=Mode.FACE,
                         parents=list(h.parents), removed=list(h.removed),
                         slots=[edit(s) for s in h.slots], key=key or os.urandom(32), history={})
    assert parse_header(data).file_name == h.file_name
    (path / "headers" / h.file_name).write_bytes(data)


@pytest.mark.parametrize("mode", ["face+device", "face+passphrase"])
def test_a_header_edited_to_claim_face_only_does_not_open(tmp_path: Path, face, rng, mode) -> None:
    """The attacker rewrites the header to claim face-only, keeping the slot's recipient key:
    the face alone gives the codeword of the hidden helper, which is not the slot's secret;
    and this computer's pin remembers the mode."""
    store = MemoryStore()
    create(tmp_path / "v", face, kdf=KDF, mode=mode, device_store=store, passphrase=PASS)

    def as_face(s: Slot) -> Slot:
        if s.kind.label != mode:
            return s
        model = s.kind.spec.model(s.public)
        public = model.to_bytes() + s.kind.spec.helper(s.public)
        return Slot(Kind.FACE, s.slot_id, s.salt, s.kdf, s.public_key, public)

    _rewrite_header(tmp_path / "v", as_face)
    assert sorted(kinds(tmp_path / "v")) == ["face", "recovery"]  # it now claims face-only ...
    assert LockedVault.read(tmp_path / "v").needs_passphrase or mode == "face+device"  # ... the pin asks anyway
    for pins in (None, elsewhere(tmp_path)):
        with pytest.raises(NotRecognisedError):  # ... but the face alone does not open it
            LockedVault.read(tmp_path / "v", pins).open(offer(faces=[face]))
    with pytest.raises(NotRecognisedError):  # nor do both factors under the wrong kind
        unlock(tmp_path / "v", offer(faces=[face], passphrase=PASS, store=store))


def test_a_forged_face_slot_is_refused(tmp_path: Path, face, rng) -> None:
    """An attacker who writes a header with a face slot of his own (enrolled from a photo of
    the victim, under a key he chose) gets his own key, not the vault's: this computer's pin
    refuses it, and on a computer without a pin the journals do not open under it."""
    created = create(tmp_path / "v", face, kdf=KDF, mode="face+passphrase", passphrase=PASS)
    created.vault.add_bytes("a", b"1")
    forged = Kind.FACE.spec.make(Factors(facekey.enroll(face)), kdf=KDF)
    _rewrite_header(tmp_path / "v", lambda s: forged if s.kind is Kind.FACE_PASSPHRASE else s)
    with pytest.raises(TrustError, match="differs"):
        LockedVault.read(tmp_path / "v").open(offer(faces=[face], passphrase=PASS))
    with pytest.raises(IntegrityError):
        LockedVault.read(tmp_path / "v", elsewhere(tmp_path)).open(offer(faces=[face]))


def test_the_pin_decides_what_to_ask_for(tmp_path: Path, face) -> None:
    """A swapped folder claiming face-only still gets asked for the passphrase (the pin's
    mode), so a face+passphrase user never adds a file to a face-only vault unawares."""
    create(tmp_path / "v", face, kdf=KDF, mode="face+passphrase", passphrase=PASS)
    assert LockedVault.read(tmp_path / "v").needs_passphrase
    shutil.rmtree(tmp_path / "v")
    create(tmp_path / "v", face, kdf=KDF, mode="face", pins=elsewhere(tmp_path))  # the attacker's
    with pytest.raises(TrustError, match="another vault"):
        LockedVault.read(tmp_path / "v")


# ---------------------------------------------------------------- no downgrade

# ---------------------------------------------------------------- mode changes

def test_change_face_to_face_plus_device_rotates_and_keeps_one_sketch(tmp_path: Path, face, rng) -> None:
    store = MemoryStore()
    created = create(tmp_path / "v", face, kdf=KDF, device_store=store)
    created.vault.add_bytes("a", b"1")
    old_copy = tmp_path / "old"
    shutil.copytree(tmp_path / "v", old_copy)
    (old_face,) = [s for s in slots_of(tmp_path / "v") if s.kind is Kind.FACE]
    opened = unlock_full(tmp_path / "v", offer(faces=probe(face, rng)))
    assert opened.face is not None
    assert drive(change_mode(opened.vault, Mode.FACE_DEVICE, face=opened.face, store=store)) is None
    opened.vault.add_bytes("b", b"after")
    assert sorted(kinds(tmp_path / "v")) == ["face+device", "recovery"]  # device-only slot gone
    (new_slot,) = [s for s in slots_of(tmp_path / "v") if s.kind is Kind.FACE_DEVICE]
    # the same enrollment (no second sketch), hidden behind the device secret
    same = Kind.FACE_DEVICE.spec.guesses(new_slot, offer(faces=[face], store=store), DecodePolicy())[0]
    kept = ironmask.helper_from_bytes(Kind.FACE.spec.helper(old_face.public))
    assert np.allclose(ironmask.helper_from_bytes(same.face.helper).matrix, kept.matrix, atol=1e-5)
    assert Kind.FACE_DEVICE.spec.helper(new_slot.public) != same.face.helper
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(faces=probe(face, rng)))
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(store=store))
    both = offer(faces=probe(face, rng), store=store)
    assert unlock(tmp_path / "v", both).read_bytes("b") == b"after"
    assert unlock(tmp_path / "v", offer(code=created.recovery_code)).read_bytes("a") == b"1"
    # An attacker puts the old face-only header back: this computer refuses the rollback;
    # on another computer it opens with the face alone but reads nothing written after.
    shutil.rmtree(tmp_path / "v" / "headers")
    shutil.copytree(old_copy / "headers", tmp_path / "v" / "headers")
    with pytest.raises(TrustError, match="rolled back"):
        LockedVault.read(tmp_path / "v").open(offer(faces=[face]))
    thief = LockedVault.read(tmp_path / "v", elsewhere(tmp_path)).open(offer(faces=[face])).vault
    assert [e.name for e in thief.entries()] == ["a"] and thief.state.pending >= 1


def test_change_between_two_factor_modes_and_back_to_face(tmp_path: Path, face, rng) -> None:
    store = MemoryStore()
    created = create(tmp_path / "v", face, kdf=KDF, mode="face+device", device_store=store)
    created.vault.add_bytes("a", b"1")
    (entry,) = [entry_of(s) for s in created.vault.header.slots if s.kind is Kind.FACE_DEVICE]
    opened = unlock_full(tmp_path / "v", offer(faces=probe(face, rng), store=store))
    assert drive(change_mode(opened.vault, Mode.FACE_PASSPHRASE, face=opened.face, passphrase=PASS,
                             store=store)) is None
    assert sorted(kinds(tmp_path / "v")) == ["face+passphrase", "recovery"]
    assert store.get(entry) is None  # the dropped device secret is forgotten
    # New passphrase in the same mode: a new epoch, no re-encryption by default.
    opened = unlock_full(tmp_path / "v", offer(faces=probe(face, rng), passphrase=PASS))
    assert drive(change_mode(opened.vault, Mode.FACE_PASSPHRASE, face=opened.face, passphrase="4711-2048")) is None
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(faces=probe(face, rng), passphrase=PASS))
    opened = unlock_full(tmp_path / "v", offer(faces=probe(face, rng), passphrase="4711-2048"))
    assert drive(change_mode(opened.vault, Mode.FACE, face=opened.face)) is None
    assert sorted(kinds(tmp_path / "v")) == ["face", "recovery"]
    # this computer made the downgrade itself: its pin follows (a folder doing it alone is refused)
    assert unlock(tmp_path / "v", offer(faces=probe(face, rng))).read_bytes("a") == b"1"


def test_change_mode_from_recovery_code_needs_a_fresh_face(tmp_path: Path, face, rng) -> None:
    created = create(tmp_path / "v", face, kdf=KDF)
    opened = unlock_full(tmp_path / "v", offer(code=created.recovery_code))
    assert opened.face is None
    with pytest.raises(UsageError):
        drive(change_mode(opened.vault, Mode.FACE_PASSPHRASE, passphrase=PASS))
    new_face = unit(rng.standard_normal(512))
    drive(change_mode(opened.vault, Mode.FACE_PASSPHRASE, new_template=new_face, passphrase=PASS))
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(faces=[face], passphrase=PASS))
    assert unlock(tmp_path / "v", offer(faces=probe(new_face, rng), passphrase=PASS))


def test_same_mode_and_device_only_slots_are_refused(tmp_path: Path, face, rng) -> None:
    store = MemoryStore()
    created = create(tmp_path / "v", face, kdf=KDF, mode="face+device", device_store=store)
    with pytest.raises(UsageError):
        drive(change_mode(created.vault, Mode.FACE_DEVICE, face=EnrolledFace(b"x", b"y"), store=store))
    with pytest.raises(UsageError):
        devices.enable_device(created.vault, store)
    assert sorted(kinds(tmp_path / "v")) == ["face+device", "recovery"]


def test_reenroll_keeps_a_two_factor_mode(tmp_path: Path, face, rng) -> None:
    created = create(tmp_path / "v", face, kdf=KDF, mode="face+passphrase", passphrase=PASS)
    new_face = unit(rng.standard_normal(512))
    with pytest.raises(UsageError):
        drive(reenroll(created.vault, new_face))
    drive(reenroll(created.vault, new_face, passphrase=PASS))
    assert sorted(kinds(tmp_path / "v")) == ["face+passphrase", "recovery"]
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(faces=probe(face, rng), passphrase=PASS))
    assert unlock(tmp_path / "v", offer(faces=probe(new_face, rng), passphrase=PASS))


# ---------------------------------------------------------------- pairing

def test_pairing_code_round_trip_and_typos() -> None:
    slot_id, secret = os.urandom(8), os.urandom(32)
    code = pairing_code(slot_id, secret)
    assert parse_pairing_code(code.lower().replace("-", " ")) == (slot_id, secret)
    typo = ("1" if code[0] != "1" else "2") + code[1:]
    with pytest.raises(NotRecognisedError, match="mistyped"):
        parse_pairing_code(typo)
    with pytest.raises(NotRecognisedError):
        parse_pairing_code(code[:-1])


def _pair_second_device(tmp_path: Path, face, rng, store_b) -> None:
    store_a = MemoryStore()
    created = create(tmp_path / "v", face, kdf=KDF, mode="face+device", device_store=store_a)
    created.vault.add_bytes("a", b"1")
    opened = unlock_full(tmp_path / "v", offer(faces=probe(face, rng), store=store_a))
    code = devices.pair_device(opened.vault, opened.face)
    assert kinds(tmp_path / "v").count("face+device") == 2
    with pytest.raises(NotRecognisedError):  # the code alone (no face) opens nothing
        devices.import_device(tmp_path / "v", code, [unit(rng.standard_normal(512))], store_b)
    b = tmp_path / "copy-on-b"
    shutil.copytree(tmp_path / "v", b)  # the synced folder on the other machine
    devices.import_device(b, code, probe(face, rng), store_b)
    slots_b = slots_of(b)
    assert [s.kind for s in slots_b].count(Kind.FACE_DEVICE) == 2
    _, pairing_secret = parse_pairing_code(code)
    assert all(store_b.get(entry_of(s)) != pairing_secret for s in slots_b if s.kind is Kind.FACE_DEVICE)
    with pytest.raises(NotRecognisedError, match="no pairing waiting"):  # one-time: used up
        devices.import_device(b, code, probe(face, rng), store_b)
    offer_b = offer(faces=probe(face, rng), store=store_b)
    assert unlock(b, offer_b).read_bytes("a") == b"1"
    offer_a = offer(faces=probe(face, rng), store=store_a)
    assert unlock(b, offer_a).read_bytes("a") == b"1"
    with pytest.raises(NotRecognisedError):  # B's keyring without the face
        unlock(b, offer(store=store_b))
    # Remove device B from A's side by slot id; B's keyring then opens nothing.
    (b_slot,) = [s for s in slots_b if s.kind is Kind.FACE_DEVICE and store_b.get(entry_of(s))]
    on_a = unlock(b, offer_a)
    assert devices.remove_device(on_a, slot_id=b_slot.slot_id.hex()) == 1
    with pytest.raises(NotRecognisedError):
        unlock(b, offer_b)
    with pytest.raises(UsageError, match="last paired device"):
        devices.remove_device(unlock(b, offer_a), store=store_a)
    store_b.delete(entry_of(b_slot))


def test_pairing_a_second_device_in_memory(tmp_path: Path, face, rng) -> None:
    _pair_second_device(tmp_path, face, rng, MemoryStore())




def test_pairing_a_second_device_with_a_real_secret_service(tmp_path: Path, face, rng, real_keyring) -> None:
    _pair_second_device(tmp_path, face, rng, real_keyring)


# ---------------------------------------------------------------- attack figures

def test_explain_orders_the_modes_and_says_it_plainly(tmp_path: Path, face) -> None:
    """The figures come from the shipped measurements (resources/figures.json) and the
    slots' stored KDF parameters; face+passphrase is exactly the passphrase at its cost."""
    from facevault.services import threat

    store = MemoryStore()
    figs = {}
    for mode in MODES:
        create(tmp_path / mode, face, kdf=KDF, mode=mode, device_store=store, passphrase=PASS)
        figs[mode] = explain(LockedVault.read(tmp_path / mode))
        assert figs[mode].mode is Mode(mode)
    by = {m: {a.name: a for a in f.attacks} for m, f in figs.items()}
    assert "clear photo of you" in figs["face"].summary and "at once" in figs["face"].summary
    far = threat.far_estimate("default")
    assert far.measured and by["face"]["dictionary"].log2_work == pytest.approx(-np.log2(far.far))
    assert by["face"]["photo"].seconds < 1  # a photo opens a face-only vault at once
    ref = figs["face"].reference
    per_guess = threat.kdf_seconds(KDF, ref) + ref.guess_seconds
    photo = by["face+passphrase"]["photo"]
    assert photo.log2_work == pytest.approx(threat.PIN6_BITS - 1)
    assert photo.seconds == pytest.approx(2 ** (threat.PIN6_BITS - 1) * per_guess)
    assert "exactly as strong as the passphrase" in figs["face+passphrase"].summary
    assert by["face+device"]["photo"].log2_work > 250
    for name in ("photo", "brute force"):
        assert by["face"][name].seconds < by["face+passphrase"][name].seconds < by["face+device"][name].seconds
    words = explain(LockedVault.read(tmp_path / "face+passphrase"), passphrase_bits=52)
    assert {a.name: a for a in words.attacks}["photo"].log2_work == pytest.approx(51)
    assert any("device-only" in n for n in figs["face"].notes)  # the face vault got a device slot
    assert any("picked its owner out of" in n for n in figs["face"].notes)
    assert any("hidden behind the passphrase" in n for n in figs["face+passphrase"].notes)
    assert all(isinstance(line, str) and line for line in threat.describe(figs["face"]))


def test_a_measured_far_replaces_the_shipped_one(tmp_path: Path, face) -> None:
    from facevault.services import threat

    f = tmp_path / "m.json"
    f.write_text('{"source": "bench policy on LFW, 2025-01-01", "presets": {"default": {"far": 1e-3, "tar": 0.9}}}')
    measured = threat.load_measured(f)
    assert measured["default"].measured and "bench policy" in measured["default"].source
    assert threat.load_measured(tmp_path / "absent.json") == {}
    create(tmp_path / "v", face, kdf=KDF)
    fig = explain(LockedVault.read(tmp_path / "v"), measured=measured)
    assert {a.name: a for a in fig.attacks}["dictionary"].log2_work == pytest.approx(np.log2(1000))
    f.write_text('{"presets": {}}')
    with pytest.raises(UsageError):
        threat.load_measured(f)
