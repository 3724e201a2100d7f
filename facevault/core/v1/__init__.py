"""Format version 1: the vault folder with one `vault.fvh` header and one `index.fve` index
that every device rewrites, symmetric key slots, and the version-1 single-file format.

Read (and, for files only, written when a person asks to keep a vault at version 1), and
upgraded in place to version 2 (facevault.core.upgrade). FORMAT.md, "Version 1".

May import: stdlib, numpy, cryptography, argon2, facevault.core, facevault.errors.
"""
