"""Benchmarks that live in the repo and print numbers (speed, LFW accuracy).

May import: stdlib, numpy, facevault.*; heavy libraries lazily inside functions.
"""
