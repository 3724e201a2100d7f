"""Vault and single-file use cases on synthetic embeddings (fast; the real-face round trips
are in tests/test_cli_roundtrip.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from facevault.core import kdf, slots as slots_mod, vault as vault_mod
from facevault.errors import IntegrityError, NotRecognisedError, StorageError, UsageError
from facevault.services import files, keys, vaults
from facevault.services.secretstore import MemoryStore
from tests.helpers.vectors import at_angle, unit

KDF = kdf.TEST_PARAMS










def test_create_then_unlock_with_face_recovery_and_device(tmp_path: Path, face, rng) -> None:
    store = MemoryStore()
    created = vaults.create(tmp_path / "v", face, kdf=KDF, device_store=store)
    created.vault.add_bytes("note.txt", b"hello")
    probe = at_angle(face, 20, rng)
    for offer in (
        keys.Offer(face_embeddings=[probe]),
        keys.Offer(recovery_code=created.recovery_code),
        keys.Offer(recovery_code=created.recovery_code.lower().replace("-", " ")),
        keys.Offer(use_device=True, store=store),
    ):
        opened = vaults.unlock(tmp_path / "v", offer)
        assert opened.read_bytes("note.txt") == b"hello"


def test_other_face_and_wrong_code_are_refused(tmp_path: Path, face, rng) -> None:
    created = vaults.create(tmp_path / "v", face, kdf=KDF)
    stranger = unit(rng.standard_normal(512))
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=[stranger]))
    code = created.recovery_code
    other = code[:-1] + ("A" if code[-1] != "A" else "B")
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(recovery_code=other))
    with pytest.raises(NotRecognisedError):  # device unlock was never enabled
        vaults.unlock(tmp_path / "v", keys.Offer(use_device=True, store=MemoryStore()))
    with pytest.raises(UsageError):
        vaults.unlock(tmp_path / "v", keys.Offer())


def test_face_tries_are_bounded(tmp_path: Path, face, rng, monkeypatch) -> None:
    vaults.create(tmp_path / "v", face, kdf=KDF)
    calls = []
    real_open = slots_mod.open_slot

    def counting(slot, secret):
        calls.append(slot.kind)
        return real_open(slot, secret)

    monkeypatch.setattr(slots_mod, "open_slot", counting)
    strangers = [unit(rng.standard_normal(512)) for _ in range(20)]
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=strangers), keys.FaceSlotPolicy(max_tries=3))
    assert calls == ["face"] * 3


def test_votes_put_the_agreed_codeword_first(face, rng) -> None:
    slot = keys.seal_face_slot(b"k" * 32, face, kdf=KDF)
    probes = [at_angle(face, 15, rng) for _ in range(3)] + [unit(rng.standard_normal(512))]
    guesses = keys.face_candidates(slot, probes, keys.FaceSlotPolicy(max_tries=4, list_candidates=1))
    assert len(guesses) == 2  # the fused probe and the three close frames agree; the stranger differs
    assert slots_mod.open_slot(slot, guesses[0]) == b"k" * 32


def test_list_decoding_and_probe_fusion_find_more_codewords(rng) -> None:
    """At 50 degrees plain decoding of 512/16 succeeds ~35% of the time (simulation); the
    fused probe of two frames and 4-candidate list decoding must each do measurably better."""
    trials, plain, listed, fused = 120, 0, 0, 0
    for _ in range(trials):
        t = unit(rng.standard_normal(512))
        enrolled = keys.enroll_face(t)
        slot = keys.seal_face_key_slot(b"k" * 32, enrolled, kdf=KDF)
        a, b = at_angle(t, 50, rng), at_angle(t, 50, rng)
        plain += enrolled.codeword in keys.face_candidates(slot, [a], keys.FaceSlotPolicy(list_candidates=1))
        listed += enrolled.codeword in keys.face_candidates(slot, [a], keys.FaceSlotPolicy(list_candidates=4))
        fused += enrolled.codeword in keys.face_candidates(slot, [a, b], keys.FaceSlotPolicy(list_candidates=1))[:1]
    assert listed >= plain + trials // 20
    assert fused >= plain + trials // 20


def test_reenroll_revokes_the_old_face(tmp_path: Path, face, rng) -> None:
    created = vaults.create(tmp_path / "v", face, kdf=KDF)
    created.vault.add_bytes("a", b"1")
    new_face = unit(rng.standard_normal(512))
    list(vaults.reenroll(created.vault, new_face))
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=[at_angle(face, 10, rng)]))
    opened = vaults.unlock(tmp_path / "v", keys.Offer(face_embeddings=[at_angle(new_face, 10, rng)]))
    assert opened.read_bytes("a") == b"1"
    assert vaults.unlock(tmp_path / "v", keys.Offer(recovery_code=created.recovery_code)).read_bytes("a") == b"1"
    assert [s.kind for s in vault_mod.read_header(tmp_path / "v").slots].count("face") == 1


def test_rotate_key_makes_an_old_header_copy_useless(tmp_path: Path, face, rng) -> None:
    store = MemoryStore()
    created = vaults.create(tmp_path / "v", face, kdf=KDF, device_store=store)
    created.vault.add_bytes("a", b"secret")
    old_header = vault_mod.read_header(tmp_path / "v")
    old_master, _ = keys.find_key(old_header.slots, keys.Offer(face_embeddings=[face]))
    new_face = unit(rng.standard_normal(512))
    out = list(vaults.reenroll(created.vault, new_face, rotate_key=True, device_store=store))
    new_code = out[-1]
    assert isinstance(new_code, str) and new_code != created.recovery_code
    with pytest.raises(IntegrityError):
        vault_mod.open_vault(tmp_path / "v", old_master)
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(recovery_code=created.recovery_code))
    for offer in (
        keys.Offer(recovery_code=new_code),
        keys.Offer(face_embeddings=[at_angle(new_face, 10, rng)]),
        keys.Offer(use_device=True, store=store),
    ):
        assert vaults.unlock(tmp_path / "v", offer).read_bytes("a") == b"secret"


def test_device_enable_disable(tmp_path: Path, face) -> None:
    store = MemoryStore()
    created = vaults.create(tmp_path / "v", face, kdf=KDF)
    vaults.enable_device(created.vault, store)
    vaults.enable_device(created.vault, store)  # again: replaces, does not pile up
    assert [s.kind for s in vault_mod.read_header(tmp_path / "v").slots].count("device") == 1
    assert vaults.unlock(tmp_path / "v", keys.Offer(use_device=True, store=store))
    opened = vaults.unlock(tmp_path / "v", keys.Offer(recovery_code=created.recovery_code))
    assert vaults.disable_device(opened, store) == 1
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(use_device=True, store=store))


def test_regenerate_recovery(tmp_path: Path, face) -> None:
    created = vaults.create(tmp_path / "v", face, kdf=KDF)
    new_code = vaults.regenerate_recovery(created.vault)
    with pytest.raises(NotRecognisedError):
        vaults.unlock(tmp_path / "v", keys.Offer(recovery_code=created.recovery_code))
    assert vaults.unlock(tmp_path / "v", keys.Offer(recovery_code=new_code))


def test_single_file_round_trip_and_refusals(tmp_path: Path, face, rng) -> None:
    src = tmp_path / "plain.bin"
    src.write_bytes(os.urandom(200_000))
    enc = tmp_path / "plain.bin.fv"
    code = files_run(files.encrypt_file(src, enc, face, kdf=KDF))
    out = tmp_path / "out.bin"
    files_run(files.decrypt_file(enc, out, keys.Offer(face_embeddings=[at_angle(face, 20, rng)])))
    assert out.read_bytes() == src.read_bytes()
    out2 = tmp_path / "out2.bin"
    files_run(files.decrypt_file(enc, out2, keys.Offer(recovery_code=code)))
    assert out2.read_bytes() == src.read_bytes()
    with pytest.raises(NotRecognisedError):
        files_run(files.decrypt_file(enc, tmp_path / "x", keys.Offer(face_embeddings=[unit(rng.standard_normal(512))])))
    assert not (tmp_path / "x").exists()
    with pytest.raises(StorageError):  # never clobber
        files_run(files.decrypt_file(enc, out, keys.Offer(recovery_code=code)))
    data = bytearray(enc.read_bytes())
    data[-100] ^= 1
    enc.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        files_run(files.decrypt_file(enc, tmp_path / "y", keys.Offer(recovery_code=code)))
    assert not (tmp_path / "y").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def files_run(gen):
    from facevault.services.capture import run

    return run(gen)


def test_tuned_kdf_is_never_weaker_than_the_default(monkeypatch) -> None:
    monkeypatch.setattr(kdf, "calibrate", lambda *a, **k: kdf.KdfParams(2, 64 * 1024, 2))
    assert vaults.tuned_kdf().time_cost == kdf.DEFAULT_PARAMS.time_cost
    monkeypatch.setattr(kdf, "calibrate", lambda *a, **k: kdf.KdfParams(20, 64 * 1024, 2))
    assert vaults.tuned_kdf().time_cost == 20
