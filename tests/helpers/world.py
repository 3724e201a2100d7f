"""Devices editing one vault folder each, and the model they are checked against: the
random operations of the sync tests (tests/core/test_sync_emulated.py with a sync tool in
miniature, tests/test_syncthing.py with real Syncthing).

`World(roots, sync)` opens the vault in each root as its own device; `sync(i, j)` is how two
copies meet. `check()` is the contract after everyone synced: the same files everywhere,
each one's bytes the bytes last written to it, nothing lost, nothing removed come back.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from facevault.core import facekey
from facevault.core.factors import FaceFactor, Factors, RecoveryFactor
from facevault.core.folder import scan
from facevault.core.kdf import TEST_PARAMS
from facevault.core.kinds import Kind
from facevault.core.modes import Mode
from facevault.core.progress import run_to_end
from facevault.core.recovery import new_recovery_code
from facevault.core.sealing import SlotPlan
from facevault.core.vault import DeviceRef, OpenVault, create_vault, open_vault
from facevault.errors import UsageError
from tests.helpers.vectors import at_angle, unit

__all__ = ["NAMES", "OPS", "World", "play", "copies_in"]

NAMES = [f"doc{i}.txt" for i in range(12)] + ["photos/a.jpg", "photos/b.jpg", "notes"]


class World:
    """Copies of one vault folder, one open vault per device, and the model. `link(i, j)`
    brings copies i and j together (a sync tool); `idle(bool)` turns the tool's habit of
    making spare conflict copies off and on again (for tidying up)."""

    def __init__(self, roots: list[Path], link: Callable[[int, int], None], seed: int,
                 names: tuple[str, ...] = ("laptop", "desktop", "phone")) -> None:
        self.rng = random.Random(seed)
        nrng = np.random.default_rng(seed)
        self.nrng = nrng
        self.face = unit(nrng.standard_normal(512))
        self.link = link
        self.calm: Callable[[bool], None] = lambda _on: None
        self.roots = roots
        self.devices = [DeviceRef(os.urandom(16), names[i]) for i in range(len(roots))]
        self.code = new_recovery_code()
        enrolled = facekey.enroll(at_angle(self.face, 5, nrng))
        first = create_vault(self.roots[0], [SlotPlan(Kind.FACE, Factors(enrolled), TEST_PARAMS),
                                             SlotPlan(Kind.RECOVERY, Factors(RecoveryFactor(self.code)), TEST_PARAMS)],
                             mode=Mode.FACE, device=self.devices[0])
        first.close()
        for root in self.roots[1:]:
            if root.exists():
                shutil.rmtree(root)
            shutil.copytree(self.roots[0], root)
        self.vaults: list[OpenVault] = [self._open(i) for i in range(len(roots))]
        self.content: dict[str, bytes] = {}  # version -> bytes written
        self.replaced: set[str] = set()
        self.written: set[str] = set()
        self.stats = {"ops": 0, "syncs": 0, "reopen": 0, "epochs": 0, "forked views": 0}

    def _open(self, i: int) -> OpenVault:
        probe = FaceFactor((at_angle(self.face, 20, self.nrng),))
        return open_vault(self.roots[i], Factors(probe), device=self.devices[i])

    def reopen(self, i: int) -> None:
        self.vaults[i].close()
        self.vaults[i] = self._open(i)
        self.stats["reopen"] += 1

    def act(self, i: int, op: str) -> None:
        v = self.vaults[i]
        try:
            self._act(v, i, op)
        except UsageError as exc:
            if "keys changed on another device" not in str(exc):
                raise
            self.reopen(i)  # a new epoch arrived: unlock again, then do it
            self._act(self.vaults[i], i, op)
        self.stats["ops"] += 1

    def _act(self, v: OpenVault, i: int, op: str) -> None:
        shown = [e for e in v.entries()]
        if op == "add" or (op in ("edit", "rm") and not shown):
            name = self.rng.choice(NAMES)
            data = os.urandom(self.rng.randrange(0, 3000))
            current = v.state.view.shown_as(name)
            entry = v.add_bytes(name, data, overwrite=True)
            self._wrote(entry.version, data, current.version if current else None)
        elif op == "edit":
            target = self.rng.choice(shown)
            data = os.urandom(self.rng.randrange(0, 3000))
            entry = v.add_bytes(target.name, data, overwrite=True)
            self._wrote(entry.version, data, target.version)
        elif op == "rm":
            target = self.rng.choice(shown)
            v.remove(target.name)
            self.replaced.add(target.version)
        elif op == "recovery":
            self.code = new_recovery_code()
            keep = [s for s in v.header.slots if s.kind is not Kind.RECOVERY]
            v.change_slots(keep, [SlotPlan(Kind.RECOVERY, Factors(RecoveryFactor(self.code)), TEST_PARAMS)],
                           mode=v.mode, revoke=True)
            self.stats["epochs"] += 1
        elif op == "reenroll":
            keep = [s for s in v.header.slots if s.kind is Kind.RECOVERY]
            fresh = facekey.enroll(at_angle(self.face, 5, self.nrng))
            v.change_slots(keep, [SlotPlan(Kind.FACE, Factors(fresh), TEST_PARAMS)], mode=v.mode, revoke=True)
            self.stats["epochs"] += 1
        elif op == "compact":
            v.compact()
        elif op == "reencrypt":
            run_to_end(v.reencrypt())
        elif op == "gc":
            v.gc(grace_seconds=0)

    def _wrote(self, version: str, data: bytes, replaced: str | None) -> None:
        self.content[version] = data
        self.written.add(version)
        if replaced is not None:
            self.replaced.add(replaced)

    def sync(self, i: int, j: int) -> None:
        self.link(i, j)
        self.stats["syncs"] += 1
        for k in (i, j):
            if self.vaults[k].forked:
                self.stats["forked views"] += 1
            if not self.vaults[k].refresh():
                self.reopen(k)

    def converge(self) -> None:
        n = len(self.roots)
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        for _ in range(2):
            for i, j in pairs:
                self.sync(i, j)

    def check(self) -> None:
        """After everyone synced: the same files everywhere, the bytes last written, nothing
        lost, nothing resurrected."""
        expected = self.written - self.replaced
        listings = []
        for v in self.vaults:
            entries = v.entries()
            live = {e.version for e in entries}
            assert live == expected, (f"lost {len(expected - live)}, resurrected {len(live - expected)}",
                                      sorted(e.name for e in entries))
            for e in entries:
                assert v.read_bytes(e.name) == self.content[e.version], e.name
            listings.append(sorted((e.name, e.version) for e in entries))
        assert all(listing == listings[0] for listing in listings)

    def tidy(self) -> None:
        """Everyone compacts (which removes the conflict copies it merged), then syncs."""
        self.calm(True)
        self.converge()
        for i in range(len(self.roots)):
            self.act(i, "compact")
        self.converge()
        self.calm(False)


OPS = ["add"] * 30 + ["edit"] * 25 + ["rm"] * 12 + ["sync"] * 22 + ["recovery"] * 2 + ["reenroll"] * 2 \
    + ["compact"] * 3 + ["reencrypt"] * 1 + ["gc"] * 3


def play(world: World, steps: int, check_every: int = 100) -> None:
    rng = world.rng
    n = len(world.roots)
    for step in range(steps):
        op = rng.choice(OPS)
        if op == "sync":
            i, j = rng.sample(range(n), 2)
            world.sync(i, j)
        else:
            world.act(rng.randrange(n), op)
        if step % check_every == check_every - 1:
            world.converge()
            world.check()
    world.tidy()
    world.check()


def copies_in(root: Path) -> list[Path]:
    """The sync tool's conflict copies of FaceVault files still in `root`."""
    return sorted(scan(root).copies)


