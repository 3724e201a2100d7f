"""A new recovery code for an open vault; the old one stops working.

May import: facevault.core, facevault.services.
"""

from __future__ import annotations

from facevault.core.kdf import DEFAULT_PARAMS
from facevault.core.kinds import Kind
from facevault.core.vault import OpenVault
from facevault.services.keyslots import recovery_plan

__all__ = ["regenerate_recovery"]


def regenerate_recovery(vault: OpenVault) -> str:
    """Replace the recovery slot in a new epoch; returns the new code (show once, never
    stored). The old code, even with an old copy of the folder, opens nothing written
    after this."""
    slots = list(vault.header.slots)
    fresh = recovery_plan(DEFAULT_PARAMS)
    vault.change_slots([s for s in slots if s.kind is not Kind.RECOVERY], [fresh.plan],
                       mode=vault.mode, revoke=True)
    return fresh.code
