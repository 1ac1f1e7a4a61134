from __future__ import annotations

from typing import Any

import pytest

from jobsync.diff import FieldChange, diff_specs
from jobsync.secrets import parse_placeholders


def _job(cron: str = '0 0 2 * * ?', **node: Any) -> dict[str, Any]:
    return {
        'name': 'daily', 'processType': 'BATCH',
        'schedule': {'type': 'CRON', 'cron': {'startTime': '2025-01-01T00:00:00+08', 'expression': cron}},
        'nodes': [{'name': 'load', 'type': 'DWSSQL', 'properties': [{'name': 'scriptName', 'value': 's'}], **node}],
    }


@pytest.mark.parametrize(
    ('live_extra', 'node_extra'),
    (
        pytest.param({'id': 608627, 'lastUpdateUser': 'alice', 'version': '3'}, {}, id='server-managed'),
        pytest.param({}, {'location': {'x': '-45.5', 'y': '10'}}, id='canvas-position'),
        pytest.param({}, {'pollingInterval': 10, 'retryTimes': 0, 'failPolicy': 'FAIL'}, id='service-defaults'),
        pytest.param({'params': [], 'description': '', 'directory': '/'}, {'preNodeName': []}, id='empty-values'),
    ),
)
def test_what_the_service_adds_is_not_a_change(live_extra: dict[str, Any], node_extra: dict[str, Any]) -> None:
    live = {**_job(**node_extra), **live_extra}
    assert diff_specs('job', _job(), live) == []


def test_cron_change_is_exactly_that_field() -> None:
    assert diff_specs('job', _job(cron='0 0 3 * * ?'), _job()) == [
        FieldChange('/schedule/cron/expression', '0 0 2 * * ?', '0 0 3 * * ?'),
    ]


def test_nodes_compare_by_name_not_position() -> None:
    two = _job()
    two['nodes'].append({'name': 'after', 'type': 'Dummy', 'preNodeName': ['load']})
    swapped = {**two, 'nodes': list(reversed(two['nodes']))}
    assert diff_specs('job', two, swapped) == []
    changed = {**two, 'nodes': [two['nodes'][0], {**two['nodes'][1], 'retryTimes': 2}]}
    assert diff_specs('job', changed, two) == [FieldChange('/nodes/after/retryTimes', None, 2)]


def test_property_values_compare_as_text() -> None:
    desired = {'name': 'l', 'link-config-values': {'configs': [{'name': 'linkConfig', 'inputs': [
        {'name': 'linkConfig.port', 'value': '22'}]}]}}
    live = {'name': 'l', 'link-config-values': {'configs': [{'name': 'linkConfig', 'inputs': [
        {'name': 'linkConfig.port', 'value': 22, 'type': 'INTEGER'}]}]}}
    assert diff_specs('cdm-link', desired, live) == []


def test_write_only_fields_are_never_compared_or_shown() -> None:
    desired = parse_placeholders({'name': 'l', 'link-config-values': {'configs': [{'name': 'linkConfig', 'inputs': [
        {'name': 'linkConfig.password', 'value': '${secret:env:PW}'},
        {'name': 'linkConfig.url', 'value': 'jdbc://u:${secret:env:PW}@h'}]}]}})
    live = {'name': 'l', 'link-config-values': {'configs': [{'name': 'linkConfig', 'inputs': [
        {'name': 'linkConfig.password', 'value': 'Add password here'},
        {'name': 'linkConfig.url', 'value': 'jdbc://u:real-password@h'}]}]}}
    assert diff_specs('cdm-link', desired, live) == []
    conn_desired = parse_placeholders({'dw_name': 'c', 'dw_config': {'password': '${secret:env:PW}', 'port': '8000'}})
    conn_live = {'dw_name': 'c', 'dw_config': {'password': '*********', 'port': '8001'}}
    assert diff_specs('connection', conn_desired, conn_live) == [FieldChange('/dw_config/port', '8001', '8000')]


def test_script_content_is_compared() -> None:
    desired = {'name': 's', 'type': 'DWSSQL', 'content': 'select 2;\n'}
    live = {'name': 's', 'type': 'DWSSQL', 'content': 'select 1;\n', 'id': 'x', 'directory': '/'}
    assert diff_specs('script', desired, live) == [FieldChange('/content', 'select 1;\n', 'select 2;\n')]


def test_boolean_is_not_one() -> None:
    assert diff_specs('cdm-link', {'name': 'l', 'enabled': False}, {'name': 'l', 'enabled': 0}) != []


# --- speed-ups that must not change a result ---------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from jobsync import codec, diff  # noqa: E402
from jobsync.kinds import FIELD_RULES  # noqa: E402
from jobsync.model import Kind  # noqa: E402

_SEGMENTS = sorted({'a', 'b', 'x', 'y', 'z', '0'} | {seg for rules in FIELD_RULES.values()
                    for pattern in (*rules.server_managed, *rules.ignored, *rules.defaults)
                    for seg in diff._split(pattern) if seg != '*'})
_LEAVES = st.sampled_from([None, '', 0, 1, True, False, '0', 'FAIL', 'variable', 10, 60, 120, '/', 'x'])
_JSON = st.recursive(_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from([*_SEGMENTS, 'other']), inner, max_size=5)),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(FIELD_RULES)), spec=st.dictionaries(st.sampled_from(_SEGMENTS), _JSON, max_size=6))
def test_rules_applied_in_one_walk_mean_the_same_as_one_by_one(kind: Kind, spec: dict[str, Any]) -> None:
    drops, drop_tree, defaults, default_tree = diff._rules(kind)
    assert drop_tree is not None and default_tree is not None  # the real rules never overlap
    one_by_one, walked = codec.json_copy(spec), codec.json_copy(spec)
    for pattern in drops:
        diff._drop(one_by_one, pattern)
    diff._walk(walked, drop_tree, fold=False)
    assert walked == one_by_one
    assert diff._copy_dropping(spec, drop_tree) == one_by_one  # the copy that drops as it goes
    for pattern, default in defaults:
        diff._fold_default(one_by_one, pattern, default)
    diff._walk(walked, default_tree, fold=True)
    assert walked == one_by_one


def test_overlapping_patterns_are_not_walked_as_one() -> None:
    assert diff._tree((('/a', 1), ('/*/b', 1))) is None
    assert diff._tree((('/a/b', 1), ('/a/c', 1))) is not None


@settings(max_examples=300, deadline=None)
@given(before=_JSON, after=_JSON)
def test_changes_are_those_of_a_plain_recursive_comparison(before: Any, after: Any) -> None:
    assert sorted(diff._compare(before, after, ()), key=lambda c: c.pointer) == _reference(before, after, '')


def _reference(before: Any, after: Any, pointer: str) -> list[FieldChange]:
    """The comparison spelt plainly: every key visited in order, every pointer built."""
    from jobsync.secrets import escape_pointer

    if isinstance(before, dict) and isinstance(after, dict):
        out: list[FieldChange] = []
        for key in sorted(set(before) | set(after), key=str):
            child = f'{pointer}/{escape_pointer(str(key))}'
            if key not in before:
                out.append(FieldChange(child, None, after[key]))
            elif key not in after:
                out.append(FieldChange(child, before[key], None))
            else:
                out.extend(_reference(before[key], after[key], child))
        return sorted(out, key=lambda c: c.pointer)
    return [] if diff._same(before, after) else [FieldChange(pointer, before, after)]


@settings(max_examples=300, deadline=None)
@given(spec=_JSON)
def test_copying_while_dropping_equals_copy_then_walk_even_with_named_and_star_children(spec: Any) -> None:
    tree = diff._tree((('/a/x', None), ('/*/y', None), ('/0/x', None), ('/b/z/*', None)))
    assert tree is not None
    walked = codec.json_copy(spec)
    diff._walk(walked, tree, fold=False)
    assert diff._copy_dropping(spec, tree) == walked
