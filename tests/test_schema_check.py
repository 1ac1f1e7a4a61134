"""schema.py's fast yes/no (jsonschema-rs) agrees with jsonschema, the judge of every message."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobsync import schema, yamlio
from jobsync.load import locate

EXAMPLE = Path(__file__).resolve().parents[1] / 'examples' / 'repo'


def _example_documents() -> list[tuple[schema.SchemaName, Any]]:
    out: list[tuple[schema.SchemaName, Any]] = []
    for path in sorted(EXAMPLE.rglob('*')):
        rel = path.relative_to(EXAMPLE).as_posix()
        loc = locate(rel)
        name: schema.SchemaName
        if rel == 'jobsync.yaml':
            name = 'config'
        elif loc is not None and path.suffix in ('.yaml', '.job'):
            name = 'template' if loc.stem.endswith('.template') else loc.kind
        else:
            continue
        doc, problems = yamlio.parse(rel, path.read_bytes())
        assert doc is not None and not problems
        out.append((name, doc.data))
    return out


DOCUMENTS = _example_documents()


@pytest.mark.parametrize('name', schema.SCHEMA_NAMES)
def test_every_shipped_schema_compiles(name: schema.SchemaName) -> None:
    # None would mean jsonschema judges every document of this kind: correct, but the slow path.
    assert schema._compiled(name) is not None
    assert schema._compiled(name) is schema._compiled(name)  # built once per process
    assert schema.validator(name) is schema.validator(name)


def test_a_stricter_no_of_the_fast_check_is_overruled_by_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

    # Python's `$` matches before a final newline, ECMA-262's does not: jsonschema has the last word.
    monkeypatch.setattr(schema, '_compiled', lambda _name: jsonschema_rs.Draft202012Validator({'pattern': '^a$'}))
    monkeypatch.setattr(schema, 'validator', lambda _name: Draft202012Validator({'pattern': '^a$'}))
    assert not schema._valid_fast('job', 'a\n')
    assert schema.is_valid('job', 'a\n') and schema.validate('job', 'a\n') == []
    assert not schema.is_valid('job', 'b')


def test_a_value_the_fast_check_cannot_take_goes_to_jsonschema() -> None:
    name, doc = next((n, d) for n, d in DOCUMENTS if n == 'job')
    big = {**doc, 'unknownField': 2**70}
    assert schema.is_valid(name, big) is bool(schema.validator(name).is_valid(big))


@pytest.mark.parametrize(
    ('sub', 'value', 'valid'),
    (
        pytest.param({'type': 'integer'}, 1.0, True, id='one-point-zero-is-an-integer'),
        pytest.param({'type': 'integer'}, True, False, id='true-is-no-integer'),
        pytest.param({'type': 'number'}, False, False, id='false-is-no-number'),
        pytest.param({'enum': [1, 'a']}, True, False, id='true-is-not-1'),
        pytest.param({'enum': [1]}, 1.0, True, id='1.0-is-1'),
        pytest.param({'const': [1, {'a': True}]}, [1, {'a': 1}], False, id='nested-bool'),
        pytest.param({'pattern': '^a'}, 5, True, id='pattern-ignores-non-strings'),
        pytest.param({'pattern': 'b'}, 'abc', True, id='pattern-searches'),
        pytest.param({'minLength': 2}, '\U0001f600', False, id='length-counts-code-points'),
        pytest.param({'if': {'required': ['a']}, 'then': {'required': ['b']}}, {'a': 1}, False, id='if-then'),
        pytest.param({'then': {'required': ['b']}}, {'a': 1}, True, id='then-without-if'),
        pytest.param({'oneOf': [{'type': 'integer'}, {'type': 'number'}]}, 1, False, id='one-of-two'),
        pytest.param({'propertyNames': {'pattern': '^[a-z]+$'}}, {'A': 1}, False, id='property-names'),
        pytest.param({'$defs': {'n': {'items': {'$ref': '#/$defs/n'}, 'type': 'array'}}, '$ref': '#/$defs/n'},
                     [[[]], [[1]]], False, id='recursive-ref'),
        pytest.param(False, None, False, id='false-schema'),
    ),
)
def test_draft_2020_12_meaning(sub: Any, value: Any, valid: bool) -> None:
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

    assert Draft202012Validator(sub).is_valid(value) is valid  # the judge first
    assert jsonschema_rs.Draft202012Validator(sub).is_valid(value) is valid


# --- agreement over mutated documents -------------------------------------------------------------

VALUES: list[Any] = [None, True, False, 0, 1, -1, 1.0, 1.5, 10**12, '', 'x', 'ABC', 'a b', '${var:x}',
                     '${secret:env:X}', 'BATCH', 'CRON', 'DWSSQL', 'x' * 300, [], [1], ['a'], {}, {'name': 'a'},
                     {'name': 'a', 'value': 'b'}, [{'name': 'a', 'value': 'b'}]]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*path, i)))
    return out


def _mutate(doc: Any, rng: random.Random) -> Any:
    doc = _copy(doc)
    path = rng.choice(_paths(doc))
    parent: Any = doc
    for part in path[:-1]:
        parent = parent[part]
    op = rng.choice(['replace', 'replace', 'delete', 'add', 'duplicate'])
    if not path:
        return rng.choice(VALUES) if op == 'replace' else doc
    last = path[-1]
    if op == 'replace':
        parent[last] = _copy(rng.choice(VALUES))
    elif op == 'delete':
        del parent[last]
    elif op == 'add' and isinstance(parent[last], dict):
        parent[last][rng.choice(['name', 'type', 'unknownField', 'properties', 'value'])] = rng.choice(VALUES)
    elif op == 'duplicate' and isinstance(parent, list):
        parent.append(_copy(parent[last]))
    return doc


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(DOCUMENTS))), st.integers(0, 2**32), st.integers(1, 3))
def test_fast_check_agrees_with_jsonschema(index: int, seed: int, edits: int) -> None:
    name, doc = DOCUMENTS[index]
    rng = random.Random(seed)
    for _ in range(edits):
        doc = _mutate(doc, rng)
    judge = bool(schema.validator(name).is_valid(doc))
    assert schema._valid_fast(name, doc) is judge, (name, doc)  # no value here ends in a newline
    assert schema.is_valid(name, doc) is judge
    assert (schema.validate(name, doc) == []) is judge


def test_example_documents_are_valid_both_ways() -> None:
    for name, doc in DOCUMENTS:
        assert schema.is_valid(name, doc) and schema.validator(name).is_valid(doc), name
