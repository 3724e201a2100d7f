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
    """Replace the recovery slot; returns the new code (show once, never stored)."""
    slots = list(vault.header.slots)
    kdf = next((s.kdf for s in slots if s.kind is Kind.RECOVERY), DEFAULT_PARAMS)
    fresh = recovery_plan(kdf)
    vault.replace_slots([s for s in slots if s.kind is not Kind.RECOVERY], [fresh.plan])
    return fresh.code
