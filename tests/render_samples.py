"""Hand-built results for renderer golden tests: apply, drift, export, console operations, progress.

Every value is fixed (no clock, no temporary path, no real sha), so the goldens are deterministic.
`hostile_*` samples carry names and content a hostile workspace could hold: ESC/CSI/OSC sequences,
CR, BEL, NUL, bidi overrides, newlines that fake a summary line, and backticks.
"""

from __future__ import annotations

from plan_samples import REV

from jobsync.diff import FieldChange
from jobsync.drift import DriftItem, DriftKind, DriftReport
from jobsync.events import Event, EventKind, Outcome, Results, Status
from jobsync.export import ExportedObject, ExportResult, Missing, SecretNote
from jobsync.model import ObjectKey
from jobsync.ops import DeletePlan
from jobsync.plan import Action, Change, Plan, Side
from jobsync.render.export import Written

WORKSPACE = 'local:/srv/prod.db'
CLUSTER = 'cdm-prod'
DAILY = ObjectKey('job', 'daily')
LOAD = ObjectKey('script', 'load')
CONN = ObjectKey('connection', 'dws')
COPY = ObjectKey('cdm-job', 'copy_orders', CLUSTER)

# A fake green summary line, a screen clear, a window title (OSC), a bell, NUL, CR and a bidi override.
FAKE_SUMMARY = '\n\x1b[32mPlan: 0 to create, 0 to update, 0 to delete, 0 to export; 0 unchanged.\x1b[0m'
HOSTILE_NAME = 'evil' + FAKE_SUMMARY + '\x1b[2J\x1b]0;owned\x07\x00\r\u202egnp.exe`](https://x.invalid)'
HOSTILE = ObjectKey('job', HOSTILE_NAME)
HOSTILE_CONTENT = 'SELECT 1;\n```\n<!-- end -->\x1b[31mred\x9b2J\u2066x\u2069\r-- fine\n'

# Script content whose deleted and added lines start like unified-diff file headers.
SQL_BEFORE = '-- header comment\n--- three dashes\n++ two plus\n+++ three plus\nSELECT 1;\n'
SQL_AFTER = '-- new comment\n--- changed dashes\n++ other plus\n+++ other three\nSELECT 1;\n'


def apply_result() -> Results:
    return Results((
        Outcome(CONN, 'update', Status.APPLIED),
        Outcome(LOAD, 'update', Status.FAILED, 'DLF.6201: the script is locked by bob'),
        Outcome(DAILY, 'update', Status.SKIPPED, 'depends on script/load, which was failed'),
        Outcome(ObjectKey('job', 'hourly'), 'create', Status.APPLIED),
    ))


def drift_report() -> DriftReport:
    return DriftReport(REV, 'prod', WORKSPACE, (
        DriftItem(DAILY, DriftKind.CHANGED, '1 field changed in the workspace',
                  (FieldChange('/schedule/cron/expression', '0 0 2 * * ?', '0 0 3 * * ?'),), 'jobs/daily.yaml', 20),
        DriftItem(LOAD, DriftKind.CHANGED, '1 field changed in the workspace',
                  (FieldChange('/content', SQL_BEFORE, SQL_AFTER),), 'scripts/load.yaml', 21),
        DriftItem(ObjectKey('job', 'console_only'), DriftKind.ADDED, 'only in the workspace (created in the console)',
                  live_updated=22),
        DriftItem(ObjectKey('job', 'gone'), DriftKind.MISSING, 'in git, missing from the workspace',
                  source='jobs/gone.yaml'),
        DriftItem(ObjectKey('job', 'pending'), DriftKind.PENDING, 'not applied yet', source='jobs/pending.yaml'),
    ), in_sync=7, api_calls={'GET /v1/{pid}/jobs': 2})


def export_result() -> tuple[ExportResult, Written]:
    result = ExportResult(
        files={'jobs/daily.yaml': b'', 'connections/dws.yaml': b''},
        objects=(
            ExportedObject(CONN, 'added', ('connections/dws.yaml',)),
            ExportedObject(DAILY, 'changed', ('jobs/daily.yaml',),
                           (FieldChange('/schedule/cron/expression', '0 0 2 * * ?', '0 0 3 * * ?'),)),
            ExportedObject(ObjectKey('job', 'from_template'), 'template', ('templates/t.yaml#/params/0',),
                           (FieldChange('/description', 'a', 'b'),)),
            ExportedObject(LOAD, 'unchanged', ('scripts/load.yaml', 'scripts/load.sql')),
        ),
        secrets=(SecretNote(CONN, 'connections/dws.yaml', '/dw_config/password', '${secret:env:DWS_PASSWORD}',
                            True),),
        missing=(Missing(ObjectKey('job', 'gone'), 'jobs/gone.yaml'),),
    )
    return result, Written(WORKSPACE, 'everything', ('connections/dws.yaml', 'jobs/daily.yaml'),
                           branch='jobsync/export')


def run_result() -> Results:
    return Results((
        Outcome(COPY, 'run', Status.APPLIED, state='SUCCEEDED'),
        Outcome(DAILY, 'run', Status.APPLIED, 'instance 42', 'success'),
        Outcome(ObjectKey('job', 'stream'), 'run', Status.FAILED, 'DLF.3051: the job runs once', 'not run'),
    ))


def delete_result() -> Results:
    return Results((
        Outcome(DAILY, 'delete', Status.APPLIED, state='deleted'),
        Outcome(COPY, 'delete', Status.FAILED, 'Cdm.0052: the job is running', 'not deleted'),
        Outcome(ObjectKey('cdm-link', 'src', CLUSTER), 'delete', Status.SKIPPED,
                f'still used by {COPY}, which was not deleted', 'skipped'),
    ))


def delete_plan() -> DeletePlan:
    return DeletePlan(WORKSPACE, 'named', {}, (DAILY, LOAD), {DAILY: 'jobs/daily.yaml'})


def groups() -> dict[tuple[str, str], list[ObjectKey]]:
    return {(CLUSTER, 'DEFAULT'): [ObjectKey('cdm-job', 'lonely', CLUSTER)],
            (CLUSTER, 'nightly'): [COPY, ObjectKey('cdm-job', 'copy_users', CLUSTER)]}


def events() -> list[Event]:
    return [
        Event(EventKind.BATCH, batch=(1, 2), message='2 object(s), job'),
        Event(EventKind.NOTE, DAILY, message='stopped before overwriting it; it will be restarted'),
        Event(EventKind.OUTCOME, DAILY, outcome=Outcome(DAILY, 'update', Status.APPLIED)),
        Event(EventKind.OUTCOME, LOAD, outcome=Outcome(LOAD, 'update', Status.FAILED, 'DLF.6201: locked')),
        Event(EventKind.STATUS, COPY, message='BOOTING'),
        Event(EventKind.OUTCOME, COPY, outcome=Outcome(COPY, 'run', Status.APPLIED, state='SUCCEEDED')),
    ]


def comment_diff_plan() -> Plan:
    """An update whose content diff deletes and adds lines starting with `--`, `++`, `---` and `+++`."""
    change = Change(LOAD, Action.UPDATE, '1 field differs from the workspace: changed in git',
                    (FieldChange('/content', SQL_BEFORE, SQL_AFTER),),
                    desired={'name': 'load', 'type': 'DWSSQL', 'content': SQL_AFTER}, live_updated=11,
                    source='scripts/load.yaml', side=Side.GIT)
    return Plan(REV, 'prod', WORKSPACE, (change,), batches=((LOAD,),))


def hostile_plan() -> Plan:
    """A workspace-side name and content made to fake output and inject markup."""
    changes = (
        Change(HOSTILE, Action.UPDATE, f'1 field differs from git: drift {HOSTILE_NAME}',
               (FieldChange('/description', 'x\x1b[2Jy', 'plain'),), {'name': HOSTILE_NAME}, 3,
               f'jobs/{HOSTILE_NAME}.yaml', side=Side.WORKSPACE),
        Change(LOAD, Action.UPDATE, '1 field differs from the workspace: changed in git',
               (FieldChange('/content', HOSTILE_CONTENT, 'SELECT 2;\n'),), {'name': 'load', 'content': 'SELECT 2;\n'},
               4, 'scripts/load.yaml', side=Side.GIT),
    )
    return Plan(REV, 'prod', WORKSPACE, changes, unmanaged=(HOSTILE,), batches=((LOAD,), (HOSTILE,)))


def hostile_drift() -> DriftReport:
    return DriftReport(REV, 'prod', WORKSPACE, (
        DriftItem(HOSTILE, DriftKind.ADDED, 'only in the workspace (created in the console)', live_updated=1),
        DriftItem(LOAD, DriftKind.CHANGED, '1 field changed in the workspace',
                  (FieldChange('/content', 'SELECT 1;\n', HOSTILE_CONTENT),), 'scripts/load.yaml', 2),
    ), in_sync=0)


def hostile_results() -> Results:
    return Results((Outcome(HOSTILE, 'delete', Status.FAILED, 'echo: \x1b]8;;https://x.invalid\x07click\x1b]8;;\x07',
                            'not deleted'),))
