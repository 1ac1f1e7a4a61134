"""A listing entry's change marker (workspace/bodies.py `fingerprint`): the digest of its canonical
JSON, the same value whichever JSON writer made it, so the markers an older jobsync recorded in
the state still match (a moved marker costs a read of the object)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jobsync.workspace.bodies import fingerprint


def _reference(entry: dict[str, Any], drop: tuple[str, ...] = ()) -> int:
    """The marker as jobsync wrote it before orjson: json.dumps, keys sorted, ASCII escapes."""
    text = json.dumps({k: v for k, v in entry.items() if k not in drop}, sort_keys=True, default=str,
                      separators=(',', ':'))
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=15)


@settings(max_examples=300, deadline=None)
@given(entry=st.dictionaries(st.text(max_size=8), _values, max_size=8), drop=st.sampled_from([(), ('jobRelation',)]))
def test_the_marker_is_the_one_an_older_jobsync_recorded(entry: dict[str, Any], drop: tuple[str, ...]) -> None:
    assert fingerprint(entry, drop) == _reference(entry, drop)


def test_non_ascii_content_and_large_numbers_keep_their_marker() -> None:
    entry = {'name': '日报', 'content': 'SELECT 1; -- é\x7f', 'n': 2**70, 'jobRelation': [1]}
    assert fingerprint({'\x7f': None}) == _reference({'\x7f': None})  # DEL: json escapes it, orjson does not
    assert fingerprint(entry) == _reference(entry)
    assert fingerprint(entry, ('jobRelation',)) == _reference(entry, ('jobRelation',)) != fingerprint(entry)
