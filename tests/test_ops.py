"""The console's batch operations on a real local workspace, with time driven by the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FakeClock
from workspace_specs import cdm_job_spec, connection_spec, job_spec, link_spec, script_spec

from jobsync import ops
from jobsync.errors import UsageError
from jobsync.model import ObjectKey
from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.transport import ApiError

CLUSTER = 'cdm-prod'
SRC = ObjectKey('cdm-link', 'src', CLUSTER)
A, B, C = (ObjectKey('cdm-job', n, CLUSTER) for n in ('copy_a', 'copy_b', 'copy_c'))
OTHER = ObjectKey('cdm-job', 'copy_other', CLUSTER)
DAILY = ObjectKey('job', 'daily')
REPORT = ObjectKey('job', 'report')
ONCE = ObjectKey('job', 'once')
STREAM = ObjectKey('job', 'stream')
LOAD = ObjectKey('script', 'load')
CONN = ObjectKey('connection', 'dws')
RUN_MS = 3000


@pytest.fixture
def workspace(tmp_path: Path, fake_clock: FakeClock) -> Iterator[LocalWorkspace]:
    """CDM jobs and Factory job instances run 3 s of fake time; a Factory job `report` depends on `daily`."""
    ws = LocalWorkspace(tmp_path / 'ws.db', clock=fake_clock, cdm_run_ms=RUN_MS, instance_run_ms=RUN_MS)
    report = job_spec('report')
    report['schedule']['cron']['dependJobs'] = {'jobs': ['daily']}
    ws.import_objects([
        (CONN, connection_spec('dws')),
        (LOAD, script_spec('load', connection='dws')),
        (DAILY, job_spec('daily', scripts=('load',), connection='dws')),
        (REPORT, report),
        (ONCE, job_spec('once', schedule={'type': 'EXECUTE_ONCE'})),
        (STREAM, job_spec('stream', process_type='REAL_TIME', schedule={'type': 'EXECUTE_ONCE'})),
        (SRC, link_spec('src')),
        *((k, cdm_job_spec(k.name, source='src', target='src', group='nightly')) for k in (A, B, C)),
        (OTHER, cdm_job_spec('copy_other', source='src', target='src')),
    ])
    yield ws
    ws.close()


def _time(clock: FakeClock):
    def sleep(seconds: float) -> None:
        clock.advance(int(seconds * 1000))

    return {'sleep': sleep, 'clock': lambda: clock.now / 1000}


def _members(ws: LocalWorkspace, group: str) -> list[ObjectKey]:
    entries = ws.list_objects()
    return ops.group_members(ws.read({k: e for k, e in entries.items() if k.kind == 'cdm-job'}), [group])


def test_run_a_group_and_wait_reports_each_outcome_with_live_status(workspace, fake_clock):
    keys = _members(workspace, 'nightly')
    assert keys == [A, B, C]
    events: list[tuple[str, str]] = []
    result = ops.run_jobs(workspace, keys, wait=True, interval=1, **_time(fake_clock),
                          on_event=lambda e: events.append((e.key.name if e.key else '', e.message)))
    assert result.ok
    assert [(o.key, o.state) for o in result.outcomes] == [(A, 'SUCCEEDED'), (B, 'SUCCEEDED'), (C, 'SUCCEEDED')]
    assert [m for n, m in events if n == 'copy_a'] == ['started', 'BOOTING', 'RUNNING', 'SUCCEEDED']
    assert workspace.job_status(OTHER) == 'NEW'  # not in the group: not started


def test_a_job_failing_midway_fails_the_run_and_the_others_still_finish(workspace, fake_clock):
    time = _time(fake_clock)
    stopped: list[ObjectKey] = []

    def sleep(seconds: float) -> None:
        if not stopped:
            workspace.stop_job(B)  # someone stops it in the console: the submission ends FAILED
            stopped.append(B)
        time['sleep'](seconds)

    result = ops.run_jobs(workspace, [A, B, C], wait=True, interval=1, sleep=sleep, clock=time['clock'])
    assert not result.ok
    assert {o.key: (o.ok, o.state) for o in result.outcomes} == {
        A: (True, 'SUCCEEDED'), B: (False, 'FAILED'), C: (True, 'SUCCEEDED')}


def test_wait_gives_up_at_the_timeout(workspace, fake_clock):
    result = ops.run_jobs(workspace, [A], wait=True, interval=2, timeout=1.5, **_time(fake_clock))
    (outcome,) = result.outcomes
    assert not outcome.ok and outcome.message == 'timed out after 1.5s, still RUNNING'


def test_without_wait_jobs_are_started_and_left_running(workspace, fake_clock):
    result = ops.run_jobs(workspace, [A, DAILY], **_time(fake_clock))
    assert result.ok and [o.state for o in result.outcomes] == ['started', 'started']
    assert workspace.job_status(A) == 'BOOTING' and workspace.job_status(DAILY) == 'SCHEDULING'


def test_factory_jobs_start_their_schedule_and_a_running_one_is_not_an_error(workspace, fake_clock):
    workspace.start_job(DAILY)
    result = ops.run_jobs(workspace, [DAILY, REPORT, ONCE], wait=True, interval=1, **_time(fake_clock))
    outcomes = {o.key: o for o in result.outcomes}
    assert (outcomes[DAILY].ok, outcomes[DAILY].state) == (True, 'SCHEDULING')
    assert (outcomes[REPORT].ok, outcomes[REPORT].state) == (True, 'SCHEDULING')
    assert not outcomes[ONCE].ok and 'runs once' in outcomes[ONCE].message
    assert not result.ok


def test_run_once_follows_each_instance_to_success_and_leaves_the_schedule_alone(workspace, fake_clock):
    events: list[tuple[str, str]] = []
    result = ops.run_jobs(workspace, [A, DAILY, ONCE], once={DAILY, ONCE, A}, wait=True, interval=1,
                          **_time(fake_clock),
                          on_event=lambda e: events.append((e.key.name if e.key else '', e.message)))
    assert result.ok
    outcomes = {o.key: o for o in result.outcomes}
    assert (outcomes[DAILY].state, outcomes[ONCE].state) == ('success', 'success')
    assert outcomes[DAILY].message.startswith('instance ') and outcomes[DAILY].message != outcomes[ONCE].message
    assert outcomes[A].state == 'SUCCEEDED'  # a CDM job in `once` runs as always: a start is one run
    instance = outcomes[DAILY].message.removeprefix('instance ')
    assert [m for n, m in events if n == 'daily'] == [f'running once: instance {instance}', 'running', 'success']
    assert workspace.job_status(DAILY) == 'STOPPED' and workspace.job_status(ONCE) == 'STOPPED'


def test_run_once_without_wait_leaves_the_instance_running(workspace, fake_clock):
    result = ops.run_jobs(workspace, [DAILY], once={DAILY}, **_time(fake_clock))
    (outcome,) = result.outcomes
    assert result.ok and outcome.state == 'started'
    assert workspace.instance_status(DAILY, outcome.message.removeprefix('instance ')) == 'running'


def test_run_once_of_a_real_time_job_fails_and_a_timed_out_instance_is_named(workspace, fake_clock):
    result = ops.run_jobs(workspace, [DAILY, STREAM], once={DAILY, STREAM}, wait=True, interval=2, timeout=1.5,
                          **_time(fake_clock))
    outcomes = {o.key: o for o in result.outcomes}
    assert not result.ok
    assert (outcomes[STREAM].ok, outcomes[STREAM].state) == (False, 'not run')
    assert 'DLF.0136' in outcomes[STREAM].message
    assert not outcomes[DAILY].ok
    assert outcomes[DAILY].message.startswith('timed out after 1.5s, still running (instance ')


@pytest.mark.parametrize(('status', 'settled'), [
    *((s, True) for s in ('success', 'forceSuccess', 'ignoreSuccess', 'skip-by-depend')),
    *((s, False) for s in ('fail', 'running-exception', 'manual-stop')),
    *((s, None) for s in ('waiting', 'running', 'freeze', 'waiting-confirm', 'pause')),
])
def test_instance_statuses_settle_as_the_reference_says(status, settled):
    assert ops.instance_settled(status) is settled


def test_only_batch_jobs_scheduled_execute_once_run_once_by_default(workspace):
    specs = {k: o.spec for k, o in workspace.read([DAILY, ONCE, STREAM, A]).items()}
    assert [k for k, spec in sorted(specs.items()) if ops.runs_once_by_default(k, spec)] == [ONCE]


def test_stop_running_jobs_and_jobs_not_running_are_fine(workspace, fake_clock):
    ops.run_jobs(workspace, [A, DAILY], **_time(fake_clock))
    fake_clock.advance(1000)
    result = ops.stop_jobs(workspace, [A, B, DAILY])
    assert result.ok
    assert {o.key: o.state for o in result.outcomes} == {A: 'stopped', B: 'not running', DAILY: 'stopped'}
    assert workspace.job_status(A) == 'FAILED' and workspace.job_status(DAILY) == 'STOPPED'


def test_delete_goes_users_first(workspace):
    live = workspace.read([LOAD, DAILY, REPORT, CONN])
    specs = {k: o.spec for k, o in live.items()}
    assert ops.deletion_order(specs) == [REPORT, DAILY, LOAD, CONN]
    result = ops.delete_objects(workspace, specs)
    assert result.ok and [o.key for o in result.outcomes] == [REPORT, DAILY, LOAD, CONN]
    assert not {LOAD, DAILY, REPORT, CONN} & set(workspace.list_objects())


def test_a_running_cdm_job_is_stopped_before_it_is_deleted(workspace, fake_clock):
    workspace.start_job(A)  # the service refuses to delete a running CDM job: jobsync stops it first
    result = ops.delete_objects(workspace, {A: workspace.read([A])[A].spec})
    assert result.ok and A not in workspace.list_objects()


def test_a_failed_delete_skips_what_it_uses(workspace, fake_clock, monkeypatch):
    workspace.start_job(A)  # a running CDM job cannot be deleted (Cdm.0052) ...
    def refuse_stop(key: ObjectKey) -> None:  # ... and here its stop is refused, so it stays running
        raise ApiError(f'Job {key.name} cannot be stopped now.', code='Cdm.0052')
    monkeypatch.setattr(workspace, 'stop_job', refuse_stop)
    specs = {k: o.spec for k, o in workspace.read([A, B, C, OTHER, SRC]).items()}
    result = ops.delete_objects(workspace, specs)
    outcomes = {o.key: o for o in result.outcomes}
    assert outcomes[A].state == 'not deleted' and 'Cdm.0052' in outcomes[A].message
    assert outcomes[SRC].state == 'skipped' and outcomes[SRC].message == (
        f'still used by {A}, which was not deleted')
    assert all(outcomes[k].ok for k in (B, C, OTHER))
    assert set(workspace.list_objects()) >= {A, SRC}


def test_groups_list_their_jobs_and_deleting_a_group_deletes_its_jobs(workspace):
    cdm = workspace.read([A, B, C, OTHER])
    assert ops.cdm_groups(cdm) == {(CLUSTER, 'DEFAULT'): [OTHER], (CLUSTER, 'nightly'): [A, B, C]}
    members = _members(workspace, 'nightly')
    assert ops.delete_objects(workspace, {k: cdm[k].spec for k in members}).ok
    assert ops.cdm_groups(workspace.read([A, B, C, OTHER])) == {(CLUSTER, 'DEFAULT'): [OTHER]}
    with pytest.raises(UsageError, match='no CDM job in group nightly'):
        _members(workspace, 'nightly')


def test_names_resolve_to_one_job_each():
    keys = [DAILY, ObjectKey('cdm-job', 'daily', CLUSTER), A, LOAD]
    assert ops.resolve(keys, ['copy_a', 'job/daily']) == [A, DAILY]
    with pytest.raises(UsageError, match='daily: ambiguous, it names job/daily, cdm-job/cdm-prod/daily'):
        ops.resolve(keys, ['daily'])
    with pytest.raises(UsageError, match='nope: not in the workspace'):
        ops.resolve(keys, ['nope'])
    with pytest.raises(UsageError, match='a script cannot be acted on here'):
        ops.resolve(keys, ['script/load'])
    assert ops.resolve(keys, ['script/load'], kinds=frozenset({'script'})) == [LOAD]
