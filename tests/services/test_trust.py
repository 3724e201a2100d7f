"""What this computer remembers (services.trust): its own device id, and per vault a pin
that refuses a swapped, rolled-back or downgraded folder with exit 3 and a plain message,
until `facevault trust` accepts it deliberately."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from facevault.cli.main import main
from facevault.core.modes import Mode
from facevault.errors import TrustError
from facevault.services import trust
from facevault.services.modes import change_mode
from facevault.services.progress import drive
from facevault.services.secretstore import MemoryStore
from facevault.services.trust import PinStore, this_device
from facevault.services.unlock import LockedVault
from tests.helpers.vaults import create, offer, unlock_full
from tests.helpers.vectors import at_angle

PASS = "correct horse battery staple"


def test_the_device_id_is_kept_and_made_again_on_another_machine(tmp_path: Path, monkeypatch) -> None:
    first = this_device(tmp_path)
    assert this_device(tmp_path) == first and len(first.id) == 16 and first.name
    assert oct((tmp_path / "device.json").stat().st_mode & 0o777) == "0o600"
    monkeypatch.setattr(trust, "_machine", lambda: "another machine")  # the data dir was copied
    assert this_device(tmp_path).id != first.id


def test_a_pin_survives_the_loss_of_either_copy(tmp_path: Path, face) -> None:
    keyring = MemoryStore()
    pins = PinStore(tmp_path / "pins", keyring)
    created = create(tmp_path / "v", face, pins=pins)
    vid = created.vault.vault_id
    assert pins.get(vid) is not None
    (tmp_path / "pins" / f"{vid.hex()}.json").unlink()
    assert pins.get(vid) is not None  # from the keyring
    pins.keyring = None
    assert pins.get(vid) is None
    created.vault.add_bytes("a", b"1")  # the open vault writes its pin again
    doc = json.loads((tmp_path / "pins" / f"{vid.hex()}.json").read_text())
    assert doc["vault_id"] == vid.hex() and doc["heads"] and doc["mode"] == "face"


def _cli(*args: object) -> int:
    return main([str(a) for a in args])


def test_a_swapped_folder_is_refused_with_exit_3(tmp_path: Path, face, capsys) -> None:
    created = create(tmp_path / "v", face)
    code = created.recovery_code
    assert _cli("ls", tmp_path / "v", "--recovery-code", code) == 0
    shutil.rmtree(tmp_path / "v")
    other = create(tmp_path / "v", face, pins=PinStore(tmp_path / "attacker"))  # the attacker's vault
    capsys.readouterr()
    assert _cli("ls", tmp_path / "v", "--recovery-code", other.recovery_code) == 3
    err = capsys.readouterr().err
    assert "another vault" in err and "replaced" in err and "facevault trust" in err
    assert _cli("trust", tmp_path / "v", "--recovery-code", other.recovery_code) == 0
    assert "now holds vault" in capsys.readouterr().err
    assert _cli("ls", tmp_path / "v", "--recovery-code", other.recovery_code) == 0


def test_a_rolled_back_folder_is_refused_until_trusted(tmp_path: Path, face, capsys) -> None:
    created = create(tmp_path / "v", face)
    code = created.recovery_code
    created.vault.add_bytes("a.txt", b"1")
    shutil.copytree(tmp_path / "v", tmp_path / "backup")
    created.vault.add_bytes("b.txt", b"2")
    created.vault.remove("a.txt")
    shutil.rmtree(tmp_path / "v")
    shutil.copytree(tmp_path / "backup", tmp_path / "v")  # an older copy put back
    capsys.readouterr()
    assert _cli("ls", tmp_path / "v", "--recovery-code", code) == 3
    assert "rolled back" in capsys.readouterr().err
    assert _cli("trust", tmp_path / "v", "--recovery-code", code) == 0  # a deliberate restore
    capsys.readouterr()
    assert _cli("ls", tmp_path / "v", "--recovery-code", code) == 0
    assert "a.txt" in capsys.readouterr().out


def test_a_mode_downgraded_elsewhere_is_refused_and_the_pin_decides_what_to_ask(tmp_path: Path, face, rng,
                                                                                capsys) -> None:
    created = create(tmp_path / "v", face, mode="face+passphrase", passphrase=PASS)
    code = created.recovery_code
    assert LockedVault.read(tmp_path / "v").needs_passphrase
    # another computer (its own pins) takes the vault down to face only
    elsewhere = PinStore(tmp_path / "other-computer")
    opened = LockedVault.read(tmp_path / "v", elsewhere).open(offer(faces=[at_angle(face, 20, rng)], passphrase=PASS))
    drive(change_mode(opened.vault, Mode.FACE, face=opened.face))
    locked = LockedVault.read(tmp_path / "v")
    assert locked.header_mode is Mode.FACE and locked.needs_passphrase  # asked for, from the pin
    with pytest.raises(TrustError, match="protects less"):
        locked.open(offer(code=code))
    capsys.readouterr()
    assert _cli("ls", tmp_path / "v", "--recovery-code", code) == 3
    assert "face+passphrase mode" in capsys.readouterr().err


def test_a_version_1_copy_of_an_upgraded_vault_is_refused(tmp_path: Path, face) -> None:
    from facevault.core import facekey
    from facevault.core.factors import Factors, RecoveryFactor
    from facevault.core.kdf import TEST_PARAMS
    from facevault.core.kinds import Kind
    from facevault.core.recovery import new_recovery_code
    from facevault.core.v1.sealing import SlotPlan as V1Plan
    from facevault.core.v1.vault import create_vault as create_v1

    code = new_recovery_code()
    create_v1(tmp_path / "v", [V1Plan(Kind.FACE, Factors(facekey.enroll(face)), TEST_PARAMS),
                               V1Plan(Kind.RECOVERY, Factors(RecoveryFactor(code)), TEST_PARAMS)]).close()
    shutil.copytree(tmp_path / "v", tmp_path / "v1-copy")
    unlock_full(tmp_path / "v", offer(code=code))  # upgraded here, and pinned
    assert (tmp_path / "v" / "headers").is_dir()
    shutil.rmtree(tmp_path / "v")
    shutil.copytree(tmp_path / "v1-copy", tmp_path / "v")
    with pytest.raises(TrustError, match="version-1 copy"):
        LockedVault.read(tmp_path / "v")
    kept = LockedVault.read(tmp_path / "v1-copy", PinStore(tmp_path / "fresh")).open(offer(code=code), keep_v1=True)
    assert (tmp_path / "v1-copy" / "vault.fvh").exists() and kept.vault.entries() == []
