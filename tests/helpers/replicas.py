"""Devices that write vault records and exchange them, without any files: the model the
merge tests (and the sync tests) check the vault against.

Each Replica knows a set of records, shows merge(known), and writes records the way
facevault.core.vault does (a put replaces the version shown under its name, a removal the
version it removes, the Lamport clock is one more than anything seen).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from facevault.core.merge import View, merge
from facevault.core.records import DEL, PUT, Record

__all__ = ["Replica", "run_script", "expected_live"]


@dataclass
class Replica:
    device: str
    name: str
    known: dict[str, Record] = field(default_factory=dict)
    seq: int = 0

    def view(self) -> View:
        return merge(self.known.values())

    def _record(self, op: str, name: str, replaces: list[str], when: float) -> Record:
        self.seq += 1
        lamport = max((r.lamport for r in self.known.values()), default=0) + 1
        extra = {} if op == DEL else dict(object_id=os.urandom(16).hex(), nonce=os.urandom(16).hex(),
                                          size=1, mtime=when, key_epoch="00000000-" + "0" * 32)
        r = Record(os.urandom(16).hex(), op, name, tuple(replaces), lamport, self.device, self.seq,
                   when, self.name, **extra)  # type: ignore[arg-type]
        self.known[r.version] = r
        return r

    def put(self, name: str, when: float = 1.7e9) -> Record:
        shown = self.view().shown_as(name)
        return self._record(PUT, name, [shown.version] if shown else [], when)

    def remove(self, name: str, when: float = 1.7e9) -> Record | None:
        shown = self.view().shown_as(name)
        if shown is None:
            return None
        return self._record(DEL, shown.original, [shown.version], when)

    def receive(self, other: Replica) -> None:
        self.known.update(other.known)


def run_script(script: list[tuple[int, str, int, int]], devices: int = 3) -> tuple[list[Replica], list[Record]]:
    """Play (device, op, name index, peer) steps: put/del a name on a device, or sync it
    with a peer both ways. Returns the replicas and every record written, in order."""
    reps = [Replica(f"{i:032x}", f"dev{i}") for i in range(devices)]
    written: list[Record] = []
    for dev, op, name_ix, peer in script:
        rep = reps[dev % devices]
        names = sorted(rep.view().entries) or ["a.txt"]
        if op == "put":
            target = f"f{name_ix}.txt" if name_ix % 2 else names[name_ix % len(names)]
            written.append(rep.put(target))
        elif op == "del":
            rec = rep.remove(names[name_ix % len(names)])
            if rec is not None:
                written.append(rec)
        else:
            other = reps[peer % devices]
            rep.receive(other)
            other.receive(rep)
    return reps, written


def expected_live(records: list[Record]) -> set[str]:
    """The puts no record replaces: what must be live after everyone has everything."""
    replaced = {v for r in records for v in r.replaces}
    return {r.version for r in records if r.op == PUT and r.version not in replaced}
