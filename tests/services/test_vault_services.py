"""Vault and single-file use cases on synthetic embeddings (fast; the real-face round trips
are in tests/test_cli_roundtrip.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import shutil

from facevault.core import facekey, kdf
from facevault.core.slots import open_stanza, wrap_to
from facevault.core.facekey import DecodePolicy
from facevault.core.factors import Factors
from facevault.core.kinds import Kind
from facevault.errors import IntegrityError, NotRecognisedError, StorageError, UsageError
from facevault.services import files
from facevault.services.devices import disable_device, enable_device
from facevault.services.modes import reenroll
from facevault.services.policy import KdfPolicy, UnlockPolicy
from facevault.services.progress import drive
from facevault.services.recovery import regenerate_recovery
from facevault.services.secretstore import MemoryStore
from tests.helpers.vaults import create, kinds, offer, unlock
from tests.helpers.vectors import at_angle, unit

KDF = kdf.TEST_PARAMS


def test_create_then_unlock_with_face_recovery_and_device(tmp_path: Path, face, rng) -> None:
    store = MemoryStore()
    created = create(tmp_path / "v", face, kdf=KDF, device_store=store)
    created.vault.add_bytes("note.txt", b"hello")
    probe = at_angle(face, 20, rng)
    for factors in (
        offer(faces=[probe]),
        offer(code=created.recovery_code),
        offer(code=created.recovery_code.lower().replace("-", " ")),
        offer(store=store),
    ):
        opened = unlock(tmp_path / "v", factors)
        assert opened.read_bytes("note.txt") == b"hello"


def test_other_face_and_wrong_code_are_refused(tmp_path: Path, face, rng) -> None:
    created = create(tmp_path / "v", face, kdf=KDF)
    stranger = unit(rng.standard_normal(512))
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(faces=[stranger]))
    code = created.recovery_code
    other = code[:-1] + ("A" if code[-1] != "A" else "B")
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(code=other))
    with pytest.raises(NotRecognisedError):  # device unlock was never enabled
        unlock(tmp_path / "v", offer(store=MemoryStore()))
    with pytest.raises(UsageError):
        unlock(tmp_path / "v", Factors())


def test_face_tries_are_bounded(tmp_path: Path, face, rng, monkeypatch) -> None:
    create(tmp_path / "v", face, kdf=KDF)
    calls = []
    from facevault.core import unlocking

    real_open = unlocking.open_stanza

    def counting(slot, stanza, secret, context):
        calls.append(slot.kind)
        return real_open(slot, stanza, secret, context)

    monkeypatch.setattr(unlocking, "open_stanza", counting)
    strangers = [unit(rng.standard_normal(512)) for _ in range(20)]
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(faces=strangers), UnlockPolicy(decode=DecodePolicy(max_tries=3)))
    assert calls == [Kind.FACE] * 3


def test_votes_put_the_agreed_codeword_first(face, rng) -> None:
    enrolled = facekey.enroll(face)
    slot = Kind.FACE.spec.make(Factors(enrolled), kdf=KDF)
    stanza = wrap_to(slot, b"k" * 32, b"test context")
    probes = [at_angle(face, 15, rng) for _ in range(3)] + [unit(rng.standard_normal(512))]
    guesses = facekey.codeword_guesses(Kind.FACE.spec.helper(slot.public), probes,
                                       DecodePolicy(max_tries=4, list_candidates=1))
    assert len(guesses) == 2  # the fused probe and the three close frames agree; the stranger differs
    assert open_stanza(slot, stanza, guesses[0], b"test context") == b"k" * 32


def test_list_decoding_and_probe_fusion_find_more_codewords(rng) -> None:
    """At 50 degrees plain decoding of 512/16 succeeds ~35% of the time (simulation); the
    fused probe of two frames and 4-candidate list decoding must each do measurably better."""
    trials, plain, listed, fused = 120, 0, 0, 0
    for _ in range(trials):
        t = unit(rng.standard_normal(512))
        enrolled = facekey.enroll(t, preset="paper")  # the angle was chosen for C(512,16)
        guesses = facekey.codeword_guesses
        a, b = at_angle(t, 50, rng), at_angle(t, 50, rng)
        plain += enrolled.codeword in guesses(enrolled.helper, [a], DecodePolicy(list_candidates=1))
        listed += enrolled.codeword in guesses(enrolled.helper, [a], DecodePolicy(list_candidates=4))
        fused += enrolled.codeword in guesses(enrolled.helper, [a, b], DecodePolicy(list_candidates=1))[:1]
    assert listed >= plain + trials // 20
    assert fused >= plain + trials // 20


def test_reenroll_revokes_the_old_face(tmp_path: Path, face, rng) -> None:
    created = create(tmp_path / "v", face, kdf=KDF)
    created.vault.add_bytes("a", b"1")
    new_face = unit(rng.standard_normal(512))
    drive(reenroll(created.vault, new_face))
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(faces=[at_angle(face, 10, rng)]))
    opened = unlock(tmp_path / "v", offer(faces=[at_angle(new_face, 10, rng)]))
    assert opened.read_bytes("a") == b"1"
    assert unlock(tmp_path / "v", offer(code=created.recovery_code)).read_bytes("a") == b"1"
    assert kinds(tmp_path / "v").count("face") == 1


def test_rotate_key_makes_an_old_header_copy_useless(tmp_path: Path, face, rng) -> None:
    """With an old copy of the headers and the old face, a thief on another computer finds
    the files' old objects gone: --rotate-key moved every file to the new epoch's key."""
    from facevault.services.trust import PinStore
    from facevault.services.unlock import LockedVault

    store = MemoryStore()
    created = create(tmp_path / "v", face, kdf=KDF, device_store=store)
    created.vault.add_bytes("a", b"secret")
    shutil.copytree(tmp_path / "v" / "headers", tmp_path / "old-headers")
    new_face = unit(rng.standard_normal(512))
    assert drive(reenroll(created.vault, new_face, rotate_key=True, store=store)) is None
    for factors in (
        offer(code=created.recovery_code),
        offer(faces=[at_angle(new_face, 10, rng)]),
        offer(store=store),
    ):
        assert unlock(tmp_path / "v", factors).read_bytes("a") == b"secret"
    shutil.rmtree(tmp_path / "v" / "headers")
    shutil.copytree(tmp_path / "old-headers", tmp_path / "v" / "headers")
    thief = LockedVault.read(tmp_path / "v", PinStore(tmp_path / "thief")).open(offer(faces=[face])).vault
    with pytest.raises((IntegrityError, StorageError)):
        thief.read_bytes("a")


def test_device_enable_disable(tmp_path: Path, face) -> None:
    store = MemoryStore()
    created = create(tmp_path / "v", face, kdf=KDF)
    enable_device(created.vault, store)
    enable_device(created.vault, store)  # again: replaces, does not pile up
    assert kinds(tmp_path / "v").count("device") == 1
    assert unlock(tmp_path / "v", offer(store=store))
    opened = unlock(tmp_path / "v", offer(code=created.recovery_code))
    assert disable_device(opened, store) == 1
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(store=store))


def test_regenerate_recovery(tmp_path: Path, face) -> None:
    created = create(tmp_path / "v", face, kdf=KDF)
    new_code = regenerate_recovery(created.vault)
    with pytest.raises(NotRecognisedError):
        unlock(tmp_path / "v", offer(code=created.recovery_code))
    assert unlock(tmp_path / "v", offer(code=new_code))


def test_single_file_round_trip_and_refusals(tmp_path: Path, face, rng) -> None:
    src = tmp_path / "plain.bin"
    src.write_bytes(os.urandom(200_000))
    enc = tmp_path / "plain.bin.fv"
    code = files_run(files.encrypt_file(src, enc, face, kdf=KDF))
    out = tmp_path / "out.bin"
    files_run(files.decrypt_file(enc, out, offer(faces=[at_angle(face, 20, rng)])))
    assert out.read_bytes() == src.read_bytes()
    out2 = tmp_path / "out2.bin"
    files_run(files.decrypt_file(enc, out2, offer(code=code)))
    assert out2.read_bytes() == src.read_bytes()
    with pytest.raises(NotRecognisedError):
        files_run(files.decrypt_file(enc, tmp_path / "x", offer(faces=[unit(rng.standard_normal(512))])))
    assert not (tmp_path / "x").exists()
    with pytest.raises(StorageError):  # never clobber
        files_run(files.decrypt_file(enc, out, offer(code=code)))
    data = bytearray(enc.read_bytes())
    data[-100] ^= 1
    enc.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        files_run(files.decrypt_file(enc, tmp_path / "y", offer(code=code)))
    assert not (tmp_path / "y").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def files_run(gen):
    return drive(gen)


def test_tuned_kdf_is_never_weaker_than_the_default(monkeypatch) -> None:
    monkeypatch.setattr(kdf, "calibrate", lambda *a, **k: kdf.KdfParams(2, 64 * 1024, 2))
    assert KdfPolicy().params().time_cost == kdf.DEFAULT_PARAMS.time_cost
    monkeypatch.setattr(kdf, "calibrate", lambda *a, **k: kdf.KdfParams(20, 64 * 1024, 2))
    assert KdfPolicy().params().time_cost == 20
    assert KdfPolicy(fixed=KDF).params() == KDF
