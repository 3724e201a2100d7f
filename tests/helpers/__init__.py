"""Shared test helpers (media generation, fakes). Importable as `tests.helpers`."""
