"""Property tests for the vault index encoding: parse(serialise(x)) == x, and strictness."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from facevault.core.v1.index import (
    Entry,
    Index,
    decode_index,
    encode_index,
    open_index,
    seal_index,
)
from facevault.errors import IntegrityError
from tests.strategies import indexes

@settings(max_examples=150, deadline=None)
@given(indexes())
def test_encode_decode_round_trip(index: Index) -> None:
    data = encode_index(index)
    assert decode_index(data) == index
    assert encode_index(decode_index(data)) == data


@settings(max_examples=30, deadline=None)
@given(indexes())
def test_seal_open_round_trip_and_binding(index: Index) -> None:
    key = bytes(32)
    assert open_index(key, seal_index(key, index), index.vault_id) == index
    with pytest.raises(IntegrityError):
        open_index(key, seal_index(key, index), bytes(16) if index.vault_id != bytes(16) else b"\x01" * 16)


def _doc() -> dict:
    return json.loads(encode_index(Index(bytes(16), 3, (Entry("a", 1, 2.0, "0" * 32, bytes(16)),))))


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(extra=1),
    lambda d: d.update(generation=-1),
    lambda d: d.update(generation=True),
    lambda d: d.update(format=2),
    lambda d: d.update(vault_id="00"),
    lambda d: d["entries"][0].update(size=-1),
    lambda d: d["entries"][0].update(size=1.0),
    lambda d: d["entries"][0].update(name=""),
    lambda d: d["entries"][0].update(name="a\x00"),
    lambda d: d["entries"][0].update(object="G" * 32),
    lambda d: d["entries"][0].update(nonce="00"),
    lambda d: d["entries"][0].pop("mtime"),
    lambda d: d["entries"].append(dict(d["entries"][0])),
    lambda d: d["entries"].insert(0, dict(d["entries"][0], name="b", object="1" * 32)),
])
def test_malformed_index_documents_are_rejected(mutate) -> None:
    doc = _doc()
    decode_index(json.dumps(doc).encode())  # the unmutated document is fine
    mutate(doc)
    with pytest.raises(IntegrityError):
        decode_index(json.dumps(doc).encode())


def test_duplicate_json_keys_are_rejected() -> None:
    data = encode_index(Index(bytes(16), 0, ()))
    with pytest.raises(IntegrityError):
        decode_index(data[:-1] + b',"generation":5}')
