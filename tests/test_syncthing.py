"""Two devices and a real Syncthing pair on 127.0.0.1 (facevault.bench.syncthing: discovery,
relays, NAT traversal and reporting off). At least 100 random operations (add, overwrite,
remove, a new recovery code, a re-enrollment, compaction, re-encryption) with syncing
paused in between; after convergence both devices list the same entries, every byte equals
the model's, and no conflict copy of a FaceVault file is left."""

from __future__ import annotations

from pathlib import Path

import pytest

from facevault.bench import syncthing
from tests.helpers.world import World, copies_in, play

pytestmark = pytest.mark.skipif(syncthing.available() is not None,
                                reason=str(syncthing.available()))


def test_random_operations_on_two_devices_through_syncthing(tmp_path: Path) -> None:
    roots = [tmp_path / "laptop" / "vault", tmp_path / "desktop" / "vault"]
    roots[0].parent.mkdir()
    roots[1].parent.mkdir()
    world = World(roots, lambda i, j: None, seed=42, names=("laptop", "desktop"))
    with syncthing.running_pair(tmp_path, roots[0], roots[1]) as pair:
        pair.wait_in_sync()  # the second copy came from the first: they agree at once
        pair.pause()
        waits: list[float] = []

        def link(_i: int, _j: int) -> None:
            pair.resume()
            waits.append(pair.wait_in_sync())
            pair.pause()
            for k in range(2):
                if not world.vaults[k].refresh():
                    world.reopen(k)

        world.link = link
        play(world, 150, check_every=50)
        assert world.stats["ops"] >= 100 and world.stats["epochs"] >= 1
        for root in roots:
            assert copies_in(root) == [], root
        assert syncthing.tree_digest(roots[0]) == syncthing.tree_digest(roots[1])
        peers = pair.a.connections()
        assert all(str(c.get("address", "")).startswith("127.0.0.1") or not c.get("connected")
                   for c in peers.values())  # nothing but the other instance
    print(f"\nsyncthing: {world.stats}, median wait {sorted(waits)[len(waits) // 2]:.2f} s")
