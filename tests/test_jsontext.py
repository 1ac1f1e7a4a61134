"""jsontext writes the text the standard library would, for every JSON value jobsync meets.

orjson is the writer for speed; these tests hold it to `json.dumps` byte for byte (indentation,
separators, escapes, key order) for every value without a float, so plans, outputs and state
hashes read the same whichever encoder wrote them; a float reads back as the same number; secret
references stay references.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jobsync import jsontext, state
from jobsync.secrets import SecretRef, SecretText, parse_placeholders

_text = st.text(alphabet=st.characters(codec='utf-8'), max_size=12)  # no lone surrogates
_scalars = st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | _text
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
                     max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_pretty_and_canonical_are_the_standard_librarys_text(value: Any) -> None:
    assert jsontext.pretty(value) == json.dumps(value, indent=2, ensure_ascii=False)
    assert jsontext.canonical(value) == json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(',', ':'))


@settings(max_examples=200, deadline=None)
@given(st.recursive(_scalars | st.floats(allow_nan=False, allow_infinity=False),
                    lambda inner: st.lists(inner, max_size=4), max_leaves=10))
def test_a_float_may_be_written_another_way_but_reads_back_the_same(value: Any) -> None:
    # orjson writes 1e-05 as 0.00001 and 1e-07 as 1e-7: the same number, other text.
    assert json.loads(jsontext.pretty(value)) == value
    assert json.loads(jsontext.canonical(value)) == value


def test_what_orjson_refuses_is_written_by_the_standard_library() -> None:
    huge = {'n': 2**70, 1: 'a key that is not text'}
    assert jsontext.pretty(huge) == json.dumps(huge, indent=2, ensure_ascii=False)
    assert jsontext.canonical({'n': 2**70}) == '{"n":1180591620717411303424}'


def test_a_secret_reference_is_written_as_its_text_never_resolved() -> None:
    spec = parse_placeholders({'password': '${secret:env:DB_PASS}', 'header': 'Bearer ${secret:env:T}'})
    assert isinstance(spec['password'], SecretText)
    written = {'password': '${secret:env:DB_PASS}', 'header': 'Bearer ${secret:env:T}'}
    assert json.loads(jsontext.pretty(spec)) == written
    # The fallback path (a value orjson refuses) writes references the same way.
    assert json.loads(jsontext.pretty({**spec, 'n': 2**70}))['password'] == '${secret:env:DB_PASS}'
    assert str(SecretText((SecretRef('env', 'X'),))) == '${secret:env:X}'


def test_the_content_hash_of_a_definition_is_unchanged_by_the_writer() -> None:
    # State files written before jsontext hold hashes of the standard library's text: they must still match.
    spec = parse_placeholders({'name': 'j', 'nodes': [{'a': 15, 'é': '${secret:env:P}'}], 'b': None})
    text = json.dumps({'name': 'j', 'nodes': [{'a': 15, 'é': '${secret:env:P}'}], 'b': None}, sort_keys=True,
                      ensure_ascii=False, separators=(',', ':'))
    assert state.content_hash('job', spec) == 'sha256:' + hashlib.sha256(text.encode()).hexdigest()


@settings(max_examples=200, deadline=None)
@given(_json)
def test_compact_keeps_key_order_and_reads_back(value: Any) -> None:
    assert jsontext.compact(value) == json.dumps(value, ensure_ascii=False, separators=(',', ':'))
    assert json.loads(jsontext.compact({**({'z': 1, 'a': 2}), 'n': 2**70})) == {'z': 1, 'a': 2, 'n': 2**70}
