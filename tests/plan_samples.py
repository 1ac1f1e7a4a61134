"""Hand-built plans for renderer tests: every action, side and risk, without a workspace."""

from __future__ import annotations

from typing import Any

from jobsync.diff import FieldChange
from jobsync.model import ObjectKey
from jobsync.plan import Action, Change, Orphan, Plan, Side
from jobsync.secrets import parse_placeholders

REV = '3f2a9c1e5b7d4a6c8e0f1a2b3c4d5e6f7a8b9c0d'
BASE = '1111111111111111111111111111111111111111'


def job(name: str, cron: str = '0 0 2 * * ?') -> dict[str, Any]:
    return {'name': name, 'processType': 'BATCH', 'directory': '/etl',
            'nodes': [{'name': 'run', 'type': 'DWSSQL', 'properties': [{'name': 'scriptName', 'value': 'load'}]}],
            'schedule': {'type': 'CRON', 'cron': {'expression': cron, 'startTime': '2025-01-01T00:00:00+08'}}}


def sample_plan(*, base: bool = True) -> Plan:
    conn = parse_placeholders({'dw_name': 'dws', 'dw_type': 'DWS',
                               'dw_config': {'host': 'dws.internal', 'password': '${secret:env:DWS_PASSWORD}'}})
    changes = (
        Change(ObjectKey('connection', 'dws'), Action.UPDATE, 'secret changed since the last apply: '
               '${secret:env:DWS_PASSWORD}', desired=conn, live_updated=10,
               source='connections/dws.yaml', secrets_changed=('${secret:env:DWS_PASSWORD}',)),
        Change(ObjectKey('script', 'load'), Action.UPDATE, '1 field differs from the workspace: changed in git',
               (FieldChange('/content', 'SELECT a\nFROM t\nWHERE x = 1;\n', 'SELECT a, b\nFROM t\nWHERE x = 1;\n'),),
               desired={'name': 'load', 'type': 'DWSSQL', 'content': 'SELECT a, b\nFROM t\nWHERE x = 1;\n'},
               live_updated=11, source='scripts/load.yaml', side=Side.GIT),
        Change(ObjectKey('script', 'old_cleanup'), Action.DELETE, 'managed by jobsync and removed from git (--prune)',
               live_updated=12),
        Change(ObjectKey('job', 'daily'), Action.UPDATE, '1 field differs from the workspace: changed in git',
               (FieldChange('/schedule/cron/expression', '0 0 2 * * ?', '0 30 2 * * ?'),), job('daily', '0 30 2 * * ?'),
               13, 'jobs/daily.yaml', side=Side.GIT),
        Change(ObjectKey('job', 'hourly'), Action.CREATE, 'not in the workspace', desired=job('hourly', '0 0 * * * ?'),
               source='jobs/hourly.yaml'),
        Change(ObjectKey('job', 'kpi'), Action.CONFLICT, '1 field differs and both git and the workspace changed '
               'since the last apply: conflict', (FieldChange('/nodes/run/retryTimes', 3, 5),), job('kpi'), 14,
               'jobs/kpi.yaml', side=Side.BOTH),
        Change(ObjectKey('job', 'report'), Action.UPDATE, '1 field differs from git: drift, changed in the workspace '
               'since the last apply; apply reverts it to git (`jobsync export` adopts it instead)',
               (FieldChange('/description', 'console edit', None),), job('report'), 15, 'jobs/report.yaml',
               side=Side.WORKSPACE),
        Change(ObjectKey('job', 'stable'), Action.NOOP, 'unchanged in git and in the workspace since the last apply',
               desired=job('stable'), live_updated=16, source='jobs/stable.yaml'),
    )
    return Plan(
        REV, 'prod', 'local:/srv/prod.db', changes,
        unmanaged=(ObjectKey('job', 'hand_made'),),
        batches=((ObjectKey('connection', 'dws'),), (ObjectKey('script', 'load'),),
                 (ObjectKey('job', 'daily'), ObjectKey('job', 'hourly'), ObjectKey('job', 'report')),
                 (ObjectKey('script', 'old_cleanup'),)),
        api_calls={'GET /v1/{pid}/jobs': 2, 'GET /v1/{pid}/scripts': 1},
        orphans=(Orphan(ObjectKey('job', 'legacy'), 'removed from git, but outside the target\'s scope '
                                                   '(directories /etl): never pruned'),),
        state_serial=7,
        base_rev=BASE if base else None,
        branch_changes=(ObjectKey('job', 'daily'), ObjectKey('job', 'hourly'), ObjectKey('script', 'load'))
        if base else (),
    )


def big_plan(n: int) -> Plan:
    """`n` job updates, each with a cron change and a script-sized description change."""
    changes = []
    for i in range(n):
        key = ObjectKey('job', f'job_{i:05d}')
        fields = (FieldChange('/schedule/cron/expression', '0 0 2 * * ?', f'0 {i % 60} 2 * * ?'),
                  FieldChange('/basicConfig/jobDescription', 'old text ' * 4, 'new text ' * 4))
        changes.append(Change(key, Action.UPDATE, '2 fields differ from the workspace', fields, job(key.name),
                              i + 1, f'jobs/{key.name}.yaml'))
    return Plan(REV, 'prod', 'local:/srv/prod.db', tuple(changes))
