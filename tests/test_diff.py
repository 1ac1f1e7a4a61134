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
