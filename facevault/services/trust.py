"""What this computer remembers about the vaults it opened, outside their folders, so that a
swapped, rolled-back or downgraded folder is refused.

This device: a random 16-byte id and a short name (its journal's name and the device named
in conflict copies), kept in the user data dir and made again when the data dir was copied
to another machine (two computers must never share a journal).

Pins, per vault id, in `<data dir>/pins/<vault id>.json` and mirrored in the OS keyring
when there is one (either copy survives the loss of the other; the newer wins):

    the key commitment of the newest epoch seen (HMAC under that epoch's key: only a folder
    that holds that key, or a later one whose key history does, matches it), the mode, and
    how far into each device's journal this computer has read.

and an index from folder path to vault id (`<data dir>/pins/paths.json`). Before an unlock
a folder that now holds another vault is refused; after it, a folder whose keys do not
reach the pinned epoch, whose commitment differs, whose mode is lower than the pinned one
or whose journals are shorter than what was read before. What to ask the person for comes
from the pin when there is one, never from the folder alone. `accept` (the `trust`
command) re-pins a folder deliberately, after a restore from a backup.

May import: stdlib, facevault.core, facevault.paths, facevault.errors,
facevault.services.secretstore.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from facevault.core import fsutil
from facevault.core.header import EpochId
from facevault.core.modes import Mode
from facevault.core.vault import DeviceRef, Keys, OpenVault
from facevault.errors import FaceVaultError, Hint, TrustError
from facevault.services.secretstore import SecretStore

__all__ = ["DeviceRef", "this_device", "Pin", "PinStore", "check_folder", "check_keys", "check_opened",
           "pin_of", "Recorder", "short_id"]

_MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
_MAX_PIN_FILE = 4 * 1024 * 1024


def short_id(vault_id: bytes) -> str:
    return vault_id.hex()[:8]


def _data_dir() -> Path:
    from facevault import paths

    return paths.data_dir()


def _machine() -> str:
    """A digest of this machine's id (so a copied data dir is noticed), or of its host name."""
    for path in _MACHINE_ID_FILES:
        with contextlib.suppress(OSError):
            text = path.read_text(encoding="ascii").strip()
            if text:
                return hashlib.sha256(b"FaceVault machine\x00" + text.encode()).hexdigest()[:32]
    return hashlib.sha256(b"FaceVault host\x00" + socket.gethostname().encode()).hexdigest()[:32]


def _host_name() -> str:
    name = socket.gethostname().split(".")[0].strip()
    clean = "".join(c for c in name if c.isprintable() and c not in "/\\()")[:32]
    return clean or "this computer"


def _write_json(path: Path, doc: object) -> None:
    fsutil.private_folder(path.parent)
    with fsutil.atomic_write(path, what=f"writing {path.name}") as out:
        out.write(json.dumps(doc, indent=1, sort_keys=True).encode("utf-8"))


def _read_json(path: Path) -> object | None:
    try:
        data = fsutil.read_regular(path, _MAX_PIN_FILE, path.name)
    except FaceVaultError:
        return None
    if data is None:
        return None
    try:
        doc: object = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return doc


def this_device(data_dir: Path | None = None) -> DeviceRef:
    """This computer's id and name (made on first use; made again on another machine)."""
    path = (data_dir or _data_dir()) / "device.json"
    machine = _machine()
    doc = _read_json(path)
    if isinstance(doc, dict) and doc.get("machine") == machine:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            raw = bytes.fromhex(str(doc["id"]))
            if len(raw) == 16:
                return DeviceRef(raw, str(doc.get("name") or _host_name())[:32])
    device = DeviceRef(secrets.token_bytes(16), _host_name())
    _write_json(path, {"id": device.id.hex(), "name": device.name, "machine": machine})
    return device


# -- pins ------------------------------------------------------------------------------------

_MODES = {m.label: m for m in Mode}


@dataclass(frozen=True)
class Pin:
    vault_id: bytes
    mode: Mode | None
    epoch: EpochId
    commitment: bytes = field(repr=False)
    heads: dict[str, int] = field(default_factory=dict)
    seen: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {"vault_id": self.vault_id.hex(), "mode": self.mode.label if self.mode else None,
                "epoch": [self.epoch.number, self.epoch.writer.hex()],
                "commitment": self.commitment.hex(), "heads": dict(self.heads), "seen": self.seen}

    @classmethod
    def from_json(cls, doc: object) -> Pin | None:
        if not isinstance(doc, dict):
            return None
        try:
            number, writer = doc["epoch"]
            heads = {str(k): int(v) for k, v in dict(doc.get("heads") or {}).items()}
            mode = doc.get("mode")
            return cls(bytes.fromhex(doc["vault_id"]), _MODES[mode] if mode else None,
                       EpochId(int(number), bytes.fromhex(writer)),
                       bytes.fromhex(doc["commitment"]), heads, float(doc.get("seen", 0.0)))
        except (KeyError, TypeError, ValueError):
            return None


def _newer(a: Pin | None, b: Pin | None) -> Pin | None:
    """The later of two copies of a pin (by epoch), with the furthest journal heads of both."""
    if a is None or b is None:
        return a or b
    best = a if (a.epoch.number, a.seen) >= (b.epoch.number, b.seen) else b
    heads = dict(a.heads)
    for dev, seq in b.heads.items():
        heads[dev] = max(heads.get(dev, 0), seq)
    return Pin(best.vault_id, best.mode, best.epoch, best.commitment, heads, best.seen)


class PinStore:
    """Pins in a folder of the data dir, mirrored in `keyring` when one is given."""

    def __init__(self, folder: Path | None = None, keyring: SecretStore | None = None) -> None:
        self.folder = folder if folder is not None else _data_dir() / "pins"
        self.keyring = keyring

    @classmethod
    def default(cls) -> PinStore:
        """The data dir's pins, with the OS keyring when one is usable."""
        from facevault.errors import KeyringUnavailableError
        from facevault.services.secretstore import KeyringStore

        keyring: SecretStore | None
        try:
            keyring = KeyringStore() if os.environ.get("FACEVAULT_PIN_KEYRING", "1") != "0" else None
        except KeyringUnavailableError:
            keyring = None
        return cls(keyring=keyring)

    def _file(self, vault_id: bytes) -> Path:
        return self.folder / f"{vault_id.hex()}.json"

    def _entry(self, vault_id: bytes) -> str:
        return f"pin-{vault_id.hex()}"

    def get(self, vault_id: bytes) -> Pin | None:
        on_disk = Pin.from_json(_read_json(self._file(vault_id)))
        mirrored = None
        if self.keyring is not None:
            with contextlib.suppress(FaceVaultError, UnicodeDecodeError, ValueError):
                raw = self.keyring.get(self._entry(vault_id))
                mirrored = Pin.from_json(json.loads(raw.decode("utf-8"))) if raw else None
        pin = _newer(on_disk, mirrored)
        return pin if pin is not None and pin.vault_id == vault_id else None

    def put(self, pin: Pin, *, mirror: bool = True) -> None:
        _write_json(self._file(pin.vault_id), pin.to_json())
        if mirror and self.keyring is not None:
            with contextlib.suppress(FaceVaultError):
                self.keyring.set(self._entry(pin.vault_id),
                                 json.dumps(pin.to_json(), sort_keys=True).encode("utf-8"))

    def forget(self, vault_id: bytes) -> None:
        fsutil.remove_quietly(self._file(vault_id))
        if self.keyring is not None:
            with contextlib.suppress(FaceVaultError):
                self.keyring.delete(self._entry(vault_id))

    # -- which vault lives where ----------------------------------------------------------

    def _paths(self) -> dict[str, str]:
        doc = _read_json(self.folder / "paths.json")
        return {str(k): str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}

    @staticmethod
    def _key(path: Path) -> str:
        return str(Path(path).expanduser().resolve())

    def vault_at(self, path: Path) -> bytes | None:
        raw = self._paths().get(self._key(path))
        try:
            return bytes.fromhex(raw) if raw else None
        except ValueError:
            return None

    def remember_path(self, path: Path, vault_id: bytes) -> None:
        table = self._paths()
        if table.get(self._key(path)) != vault_id.hex():
            table[self._key(path)] = vault_id.hex()
            _write_json(self.folder / "paths.json", table)


# -- the checks ------------------------------------------------------------------------------


def check_folder(path: Path, vault_id: bytes, pins: PinStore) -> Pin | None:
    """Before unlocking: TrustError when the folder held another vault; else its pin."""
    known = pins.vault_at(path)
    if known is not None and known != vault_id:
        raise TrustError(
            f"refused: {path} held the vault {short_id(known)} when this computer last opened "
            f"it; it now holds another vault ({short_id(vault_id)}). Someone may have replaced "
            "the folder to read what you add to it. Nothing was opened.",
            hint=Hint.TRUST_IF_YOURS)
    return pins.get(vault_id)


def _rank(mode: Mode | None) -> int:
    return -1 if mode is None else mode.rank


def check_keys(vault: Keys | OpenVault, pin: Pin | None) -> None:
    """After unlocking, before any journal is read: TrustError when the folder is not the
    vault this computer saw, or older, or in a weaker mode."""
    if pin is None:
        return
    seen = f"epoch {pin.epoch.number}"
    mine = vault.commitment(pin.epoch)
    if mine is None:
        if vault.epoch.number < pin.epoch.number:
            raise TrustError(
                f"refused: this vault folder was rolled back: its keys are at epoch "
                f"{vault.epoch.number}, but this computer already saw {seen}. An older copy "
                "was put back (it may re-enable a revoked device or recovery code, or bring "
                "back deleted files). Nothing was opened.", hint=Hint.TRUST_IF_YOURS)
        raise TrustError(
            f"refused: this folder's keys do not include {seen}, which this computer saw in "
            "this vault: it is not the vault you had (replaced, or forged with the same id). "
            "Nothing was opened.", hint=Hint.TRUST_IF_YOURS)
    if not hmac.compare_digest(mine, pin.commitment):
        raise TrustError(
            f"refused: this folder's key for {seen} differs from the one this computer saw: "
            "it is another vault under the same id (someone may have forged it). Nothing "
            "was opened.", hint=Hint.TRUST_IF_YOURS)
    if _rank(vault.mode) < _rank(pin.mode):
        was = pin.mode.label if pin.mode else "none"
        now = vault.mode.label if vault.mode else "no face"
        raise TrustError(
            f"refused: this vault was in {was} mode when this computer last opened it and is "
            f"now in {now} mode, which protects less. Nothing was opened.",
            hint=Hint.TRUST_IF_YOURS)


def check_opened(vault: OpenVault, pin: Pin | None) -> None:
    """check_keys, and TrustError when a device's journal ends earlier than this computer
    already read (a rolled-back folder)."""
    check_keys(vault, pin)
    if pin is None:
        return
    behind = sorted(d for d, seq in pin.heads.items() if vault.state.heads.get(d, 0) < seq)
    if behind:
        raise TrustError(
            f"refused: this vault folder was rolled back: the changes of {len(behind)} "
            f"device(s) end earlier than this computer already read (device {behind[0][:8]}). "
            "Files may have come back or vanished. Nothing was opened.",
            hint=Hint.TRUST_IF_YOURS)


def pin_of(vault: OpenVault, before: Pin | None = None) -> Pin:
    """The pin of what `vault` shows now (journal heads never go back from `before`)."""
    heads = dict(before.heads) if before is not None else {}
    for dev, seq in vault.state.heads.items():
        heads[dev] = max(heads.get(dev, 0), seq)
    commitment = vault.commitment(vault.epoch)
    assert commitment is not None
    return Pin(vault.vault_id, vault.mode, vault.epoch, commitment, heads, time.time())


class Recorder:
    """Keeps a vault's pin current while it is open: the file after every change, the
    keyring mirror when the epoch or mode changed (and at `flush`)."""

    def __init__(self, pins: PinStore, pin: Pin | None) -> None:
        self.pins = pins
        self.pin = pin

    def __call__(self, vault: OpenVault) -> None:
        new = pin_of(vault, self.pin)
        changed = self.pin is None or (new.epoch, new.mode) != (self.pin.epoch, self.pin.mode)
        if self.pin is not None and new.heads == self.pin.heads and not changed:
            return
        self.pins.put(new, mirror=changed)
        self.pins.remember_path(vault.path, vault.vault_id)
        self.pin = new

    def flush(self) -> None:
        if self.pin is not None:
            self.pins.put(self.pin)
