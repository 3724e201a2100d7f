"""Use cases (enroll, unlock, re-enroll, vault operations) wired from injected parts.
May import core, vision, errors, paths, keyring. Never Qt.
"""
