"""State and three-way planning on a real git repo and a real local workspace.

"Someone edits in the console" is the engine writing to the workspace file behind jobsync's back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_SECRETS, run_jobsync
from jsonschema import Draft202012Validator
from records import sqlite_records

from jobsync import commands, schema
from jobsync.apply import Status
from jobsync.errors import PlanError, StateError
from jobsync.model import ObjectKey
from jobsync.plan import Action, Plan, Side, Take
from jobsync.secrets import Redactor, default_resolver
from jobsync.state import Lock, State, lock_from_json, lock_to_json, state_from_json, state_to_dict, state_to_json
from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.service import Engine

JOB = ObjectKey('job', 'job_batch')
SCRIPT = ObjectKey('script', 'dws_sql')
LIST_ROUTES = {'GET /v1/{pid}/jobs', 'GET /v1/{pid}/scripts', 'GET /v1/{pid}/resources',
               'GET /v1/{pid}/data-connections', 'GET /v1.1/{pid}/clusters',
               'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/link/all',
               'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/job/all',
               # a connection's list entry has no dw_config and no update time (issue 11): its
               # change marker needs a show, part of listing connections
               'GET /v1/{pid}/data-connections/{data_connection_id}'}


def _db(repo: Path) -> Path:
    return repo / '.jobsync' / 'workspace.db'


@pytest.fixture
def ws(example_repo: Path) -> Iterator[LocalWorkspace]:
    workspace = LocalWorkspace(_db(example_repo))
    yield workspace
    workspace.close()


def plan(repo: Path, ws: LocalWorkspace, **choices: Any) -> Plan:
    loaded = commands.load(repo, None, None)
    ws.calls.clear()
    return commands.plan_command(loaded, ws, options=commands.plan_options(loaded.target, **choices))


def apply(repo: Path, ws: LocalWorkspace, **choices: Any) -> commands.Applied:
    the_plan = plan(repo, ws, **choices)
    resolver = default_resolver(Redactor(), EXAMPLE_SECRETS)
    return commands.apply_command(the_plan, ws, resolver, lambda e: None)


def console(repo: Path, kind: str, name: str, **changes: Any) -> None:
    engine = Engine(_db(repo))
    try:
        if kind == 'job':
            spec = engine.show_job(name)
            for f in ('id', 'lastUpdateUser', 'version'):
                spec.pop(f, None)
            spec.update(changes)
            engine.update_job(name, spec)
        else:
            spec = engine.show_script(name)
            for f in ('id', 'version', 'createUser'):
                spec.pop(f, None)
            spec.update(changes)
            engine.update_script(name, spec)
    finally:
        engine.close()


def git_edit(repo: Path, rel: str, old: str, new: str) -> None:
    path = repo / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _cron(expression: str) -> dict[str, Any]:
    return {'type': 'CRON', 'cron': {'startTime': '2025-01-01T02:00:00+08', 'expression': expression,
                                     'expressionTimeZone': 'GMT+8', 'dependPrePeriod': False,
                                     'dependJobs': {'jobs': ['mysql_to_dws_daily'], 'dependPeriod': 'SAME_PERIOD',
                                                    'dependFailPolicy': 'FAIL'}}}


# --- the documents ---------------------------------------------------------------------------

def test_state_and_lock_documents_round_trip_and_match_their_schema(example_repo: Path, ws: LocalWorkspace) -> None:
    applied = apply(example_repo, ws)
    state = applied.state
    assert state is not None and state.serial >= 1 and len(state.objects) == 22  # one serial a batch: journal.py
    assert state_from_json(state_to_json(state), where='test') == state
    validator = Draft202012Validator(schema.load_schema('state'))
    validator.validate(json.loads(state_to_json(state)))
    lock = Lock('abc', 'local', 'alice@ci (pid 1)', 1000, 2000, 'https://ci.example/runs/1')
    assert lock_from_json(lock_to_json(lock), where='test') == lock
    validator.validate(json.loads(lock_to_json(lock)))
    assert ws.read_state('local') == state


def test_unreadable_state_is_an_error_with_a_hint() -> None:
    with pytest.raises(StateError, match='cannot be read') as err:
        state_from_json('{"kind": "jobsync-state", "format_version": 1}', where='target t', key='prod.0a1b2c3d',
                        kept_in='the script jobsync_state_prod.0a1b2c3d')
    assert '`jobsync state reset --target prod`' in err.value.hint
    assert 'the script jobsync_state_prod.0a1b2c3d' in err.value.hint
    with pytest.raises(StateError, match='format_version 9'):
        state_from_json('{"kind": "jobsync-state", "format_version": 9}', where='target t')


def test_state_records_the_fingerprints_the_service_set(example_repo: Path, ws: LocalWorkspace) -> None:
    state = apply(example_repo, ws).state
    assert state is not None
    listed = ws.list_objects()
    assert {k: e.fingerprint for k, e in state.objects.items()} == {k: e.updated for k, e in listed.items()}
    assert {e.git_rev for e in state.objects.values()} == {plan(example_repo, ws).repo_rev}


def test_a_concurrent_state_write_is_refused(example_repo: Path, ws: LocalWorkspace) -> None:
    state = apply(example_repo, ws).state
    assert state is not None
    stale = State(state.target, state.serial, state.objects)  # as if written from the same base twice
    with pytest.raises(StateError, match='changed while this apply ran'):
        ws.write_state(stale)
    assert ws.read_state('local') == state


# --- cheap no-op plans -------------------------------------------------------------------------

def test_a_noop_plan_with_state_costs_only_list_calls(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    with sqlite_records(ws.records)._write() as conn:  # without the state, a plan must read every object's content
        conn.execute('DELETE FROM jobsync_state')
    without_state = plan(example_repo, ws)
    assert without_state.api_calls['POST /v1/{pid}/jobs/batch-export'] == 1
    # The jobs' export brings the scripts they use (exportDepend), as over HTTP: no show call each.
    assert 'GET /v1/{pid}/scripts/{script_name}' not in without_state.api_calls
    apply(example_repo, ws)
    noop = plan(example_repo, ws)
    assert not noop.has_changes
    assert set(noop.api_calls) <= LIST_ROUTES, noop.api_calls

    git_edit(example_repo, 'scripts/dws_sql.sql', 'dm.sales_daily', 'dm.sales_daily_v2')
    one = plan(example_repo, ws)
    reads = {r: n for r, n in one.api_calls.items() if r not in LIST_ROUTES}
    assert reads == {}  # the changed script's content came with its list entry (v1 ScriptInfo, issue 11)
    assert [c.key for c in one.actionable] == [SCRIPT]


# --- three ways ----------------------------------------------------------------------------------

def test_git_only_change_is_an_import(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    git_edit(example_repo, 'jobs/job_batch.yaml', '"0 0 2 * * ?"', '"0 30 2 * * ?"')
    change = plan(example_repo, ws).change(JOB)
    assert (change.action, change.side) == (Action.UPDATE, Side.GIT)
    assert 'changed in git' in change.reason


def test_workspace_only_change_is_drift_and_apply_reverts_it(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    console(example_repo, 'job', 'job_batch', schedule=_cron('0 15 4 * * ?'))
    change = plan(example_repo, ws).change(JOB)
    assert (change.action, change.side) == (Action.UPDATE, Side.WORKSPACE)
    assert 'drift' in change.reason and 'jobsync export' in change.reason
    assert [(f.pointer, f.before, f.after) for f in change.fields] == [
        ('/schedule/cron/expression', '0 15 4 * * ?', '0 0 2 * * ?')]
    assert apply(example_repo, ws).result.ok
    assert not plan(example_repo, ws).has_changes


def test_change_on_both_sides_is_a_conflict_and_is_not_overwritten(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    git_edit(example_repo, 'jobs/job_batch.yaml', '"0 0 2 * * ?"', '"0 30 2 * * ?"')
    console(example_repo, 'job', 'job_batch', schedule=_cron('0 15 4 * * ?'))
    the_plan = plan(example_repo, ws)
    change = the_plan.change(JOB)
    assert (change.action, change.side) == (Action.CONFLICT, Side.BOTH)
    assert JOB not in {k for b in the_plan.batches for k in b}
    with pytest.raises(PlanError, match=r'1 conflict.*job/job_batch.*nothing was written'):
        commands.apply_command(the_plan, ws, default_resolver(Redactor(), EXAMPLE_SECRETS), lambda e: None)
    assert Engine(_db(example_repo)).show_job('job_batch')['schedule']['cron']['expression'] == '0 15 4 * * ?'


def test_take_git_overwrites_and_take_live_keeps(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    git_edit(example_repo, 'jobs/job_batch.yaml', '"0 0 2 * * ?"', '"0 30 2 * * ?"')
    console(example_repo, 'job', 'job_batch', schedule=_cron('0 15 4 * * ?'))

    live = plan(example_repo, ws, take=Take.LIVE).change(JOB)
    assert live.action is Action.EXPORT and '--take live' in live.reason
    kept = apply(example_repo, ws, take=Take.LIVE)
    assert kept.result.outcomes == ()
    assert Engine(_db(example_repo)).show_job('job_batch')['schedule']['cron']['expression'] == '0 15 4 * * ?'
    assert plan(example_repo, ws).change(JOB).action is Action.CONFLICT  # still a conflict until settled

    assert plan(example_repo, ws, take=Take.GIT).change(JOB).action is Action.UPDATE
    assert apply(example_repo, ws, take=Take.GIT).result.ok
    assert Engine(_db(example_repo)).show_job('job_batch')['schedule']['cron']['expression'] == '0 30 2 * * ?'
    assert not plan(example_repo, ws).has_changes


def test_both_sides_moving_to_the_same_content_is_no_change(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    git_edit(example_repo, 'jobs/job_batch.yaml', '"0 0 2 * * ?"', '"0 30 2 * * ?"')
    console(example_repo, 'job', 'job_batch', schedule=_cron('0 30 2 * * ?'))
    change = plan(example_repo, ws).change(JOB)
    assert change.action is Action.NOOP and 'moved to the same content' in change.reason
    apply(example_repo, ws)  # records the new fingerprint: the next plan is list calls only again
    again = plan(example_repo, ws)
    assert not again.has_changes and set(again.api_calls) <= LIST_ROUTES


def test_touched_but_unchanged_in_the_workspace_is_an_import_not_a_conflict(
        example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    console(example_repo, 'script', 'dws_sql')  # saved in the console without a change: fingerprint moves
    git_edit(example_repo, 'scripts/dws_sql.sql', 'dm.sales_daily', 'dm.sales_daily_v2')
    change = plan(example_repo, ws).change(SCRIPT)
    assert (change.action, change.side) == (Action.UPDATE, Side.GIT)


def test_deleted_in_the_workspace_is_drift_and_recreated(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    Engine(_db(example_repo)).delete_job('doc1')
    change = plan(example_repo, ws).change(ObjectKey('job', 'doc1'))
    assert (change.action, change.side) == (Action.CREATE, Side.WORKSPACE)
    assert apply(example_repo, ws).result.ok


def test_first_apply_to_a_workspace_already_in_sync_starts_managing_it(example_repo: Path, tmp_path: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    ws = LocalWorkspace(_db(example_repo))
    try:
        # forget the state, as if the workspace had been filled by hand
        with sqlite_records(ws.records)._write() as conn:
            conn.execute('DELETE FROM jobsync_state')
        applied = apply(example_repo, ws)
        assert applied.result.outcomes == () and applied.state is not None and len(applied.state.objects) == 22
        assert set(plan(example_repo, ws).api_calls) <= LIST_ROUTES
    finally:
        ws.close()


def test_reserved_jobsync_objects_are_never_planned(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    Engine(_db(example_repo)).create_script({'name': 'jobsync_state_prod', 'type': 'Shell', 'content': '{}'})
    Engine(_db(example_repo)).create_script({'name': 'by_hand', 'type': 'Shell', 'content': 'echo'})
    the_plan = plan(example_repo, ws)
    assert the_plan.unmanaged == (ObjectKey('script', 'by_hand'),)


def test_failed_objects_keep_their_old_state(example_repo: Path, ws: LocalWorkspace) -> None:
    before = apply(example_repo, ws).state
    assert before is not None
    git_edit(example_repo, 'scripts/dws_sql.sql', 'dm.sales_daily', 'dm.sales_daily_v2')
    engine = Engine(_db(example_repo), user='someone_else')
    engine.lock_script('dws_sql', 'someone_else')  # the service refuses to overwrite a locked script
    after = apply(example_repo, ws)
    assert [o.status for o in after.result.outcomes] == [Status.FAILED]
    assert after.state is None or after.state.objects[SCRIPT] == before.objects[SCRIPT]


def test_state_to_dict_is_sorted_and_carries_no_values(example_repo: Path, ws: LocalWorkspace) -> None:
    state = apply(example_repo, ws).state
    assert state is not None
    doc = state_to_dict(state)
    assert list(doc['objects']) == sorted(doc['objects'], key=lambda k: ObjectKey.parse(k))
    text = state_to_json(state)
    for canary in EXAMPLE_SECRETS.values():
        assert canary not in text


def test_conflict_through_the_command_line(example_repo: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    git_edit(example_repo, 'jobs/job_batch.yaml', '"0 0 2 * * ?"', '"0 30 2 * * ?"')
    console(example_repo, 'job', 'job_batch', schedule=_cron('0 15 4 * * ?'))

    planned = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode')
    assert planned.code == 1, planned  # a conflict is an error, not "changes present"
    assert '! job/job_batch' in planned.stdout and 'conflict' in planned.stdout
    assert '--take git' in planned.stderr and 'job/job_batch' in planned.stderr

    refused = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert refused.code == 1 and 'nothing was written' in refused.stderr, refused
    assert Engine(_db(example_repo)).show_job('job_batch')['schedule']['cron']['expression'] == '0 15 4 * * ?'

    settled = run_jobsync('plan', '--repo', str(example_repo), '--take', 'git', '--detailed-exitcode')
    assert settled.code == 2, settled
    taken = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', '--take', 'git', env=EXAMPLE_SECRETS)
    assert taken.code == 0 and 'applied  job/job_batch' in taken.stdout, taken


def test_the_state_benchmark_holds_at_a_small_size(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmark_modules import load_benchmark

    bench = load_benchmark('plan_state')
    assert bench.main(['--jobs', '150']) == 0
    out = capsys.readouterr().out
    assert 'no-op plan, 150 jobs, WITH state' in out and 'content reads (not list calls): 0' in out


def test_drift_uses_the_state_a_git_only_change_is_not_drift(example_repo: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    git_edit(example_repo, 'jobs/job_batch.yaml', '"0 0 2 * * ?"', '"0 30 2 * * ?"')
    pending = run_jobsync('drift', '--repo', str(example_repo))
    assert pending.code == 0, pending  # git moved ahead: apply's business, not drift
    console(example_repo, 'script', 'dws_sql', content='SELECT 1;\n')
    drifted = run_jobsync('drift', '--repo', str(example_repo))
    assert drifted.code == 2 and 'script/dws_sql' in drifted.stdout, drifted


def test_each_scope_keeps_its_own_state_and_lock() -> None:
    from jobsync.scope import Scope
    from jobsync.state import state_key

    assert state_key('prod', Scope()) == 'prod'
    team_a = state_key('prod', Scope(prefixes=('team_a_',)))
    team_b = state_key('prod', Scope(prefixes=('team_b_',)))
    assert team_a.startswith('prod.') and team_b.startswith('prod.') and team_a != team_b
    assert state_key('prod', Scope(directories=('/b', '/a'))) == state_key('prod', Scope(directories=('/a', '/b')))


def test_json_orjson_refuses_reads_as_python_reads_it() -> None:
    from jobsync import jsontext

    assert jsontext.loads('{"a": NaN, "b": 123456789012345678901234567890}')['b'] == 123456789012345678901234567890
    assert jsontext.loads(b'{"a": [1, "\\u00e9"]}') == {'a': [1, '\u00e9']}
    with pytest.raises(ValueError):
        jsontext.loads(b'{"a": ')
