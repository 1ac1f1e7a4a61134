from __future__ import annotations

import json

import pytest

from jobsync.errors import PlanError
from jobsync.model import Definition, LiveObject, ObjectKey, SourceRef
from jobsync.plan import Action, make_plan
from jobsync.planfile import plan_from_json, plan_to_json
from jobsync.secrets import parse_placeholders

JOB = ObjectKey('job', 'daily')
CONN = ObjectKey('connection', 'dws')


def _defn(key: ObjectKey, spec: dict) -> Definition:
    return Definition(key, parse_placeholders(spec), SourceRef(f'{key.kind}s/{key.name}.yaml'))


def _job(cron: str) -> dict:
    return {'name': 'daily', 'processType': 'BATCH', 'nodes': [{'name': 'a', 'type': 'Dummy'}],
            'schedule': {'type': 'CRON', 'cron': {'expression': cron, 'startTime': '2025-01-01T00:00:00+08'}}}


@pytest.mark.parametrize(
    ('desired', 'live', 'expected'),
    (
        pytest.param({JOB: _job('0 0 2 * * ?')}, {}, [Action.CREATE], id='new-job'),
        pytest.param({JOB: _job('0 0 3 * * ?')}, {JOB: _job('0 0 2 * * ?')}, [Action.UPDATE], id='cron-changed'),
        pytest.param({JOB: _job('0 0 2 * * ?')}, {JOB: {**_job('0 0 2 * * ?'), 'id': 1}}, [Action.NOOP],
                     id='server-field-ignored'),
        pytest.param({}, {JOB: _job('0 0 2 * * ?')}, [], id='unmanaged-left-alone'),
    ),
)
def test_make_plan_action(desired: dict, live: dict, expected: list[Action]) -> None:
    plan = make_plan({k: _defn(k, v) for k, v in desired.items()},
                     {k: LiveObject(k, v, updated=5) for k, v in live.items()},
                     repo_rev='abc', target='t', workspace='local:x', max_objects=100, max_bytes=1 << 20,
                     size_of=lambda items: 0)
    assert [c.action for c in plan.changes] == expected
    assert list(plan.unmanaged) == ([JOB] if not desired else [])


def test_plan_document_round_trips_with_references_only() -> None:
    conn = {'dw_name': 'dws', 'dw_type': 'DWS', 'dw_config': {'password': '${secret:env:DWS_PASSWORD}'}}
    plan = make_plan({CONN: _defn(CONN, conn), JOB: _defn(JOB, _job('0 0 3 * * ?'))},
                     {JOB: LiveObject(JOB, _job('0 0 2 * * ?'), updated=42)},
                     repo_rev='abc', target='prod', workspace='local:x', max_objects=100, max_bytes=1 << 20,
                     size_of=lambda items: 0, api_calls={'GET /v1/{pid}/jobs': 2})
    text = plan_to_json(plan)
    doc = json.loads(text)
    assert doc['format_version'] == 1 and doc['target'] == 'prod'
    assert doc['summary']['create'] == 1 and doc['summary']['update'] == 1
    update = next(c for c in doc['changes'] if c['key'] == 'job/daily')
    assert update['live_updated'] == 42
    assert update['fields'] == [{'pointer': '/schedule/cron/expression', 'before': '0 0 2 * * ?',
                                 'after': '0 0 3 * * ?'}]
    assert '${secret:env:DWS_PASSWORD}' in text
    assert plan_from_json(text) == plan


def test_unknown_format_version_is_refused() -> None:
    with pytest.raises(PlanError, match='format_version 99'):
        plan_from_json('{"format_version": 99}')
    with pytest.raises(PlanError, match='not a jobsync plan'):
        plan_from_json('{"format_version": 1}')
