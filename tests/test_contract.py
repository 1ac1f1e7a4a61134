"""The one contract every workspace backend keeps, run against `local:` and against the HTTP
backend talking to the emulator on 127.0.0.1.

Both are the one DataArts client (client.py): over HTTPS, or over the in-process transport into the
emulator's gateway (local.py). What differs by design (signatures, where jobsync keeps its state,
clusters made on first use on `local:`) is tested in the backends' own modules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from dataarts_fixtures import EMULATOR_CLUSTERS, RunningEmulator
from workspace_specs import cdm_job_spec, connection_spec, job_spec, link_spec, read_all, resource_spec, script_spec

from jobsync.errors import ImportRefused, LockError, StateError, WorkspaceError
from jobsync.model import ObjectKey
from jobsync.state import ObjectState, State
from jobsync.workspace.base import Workspace
from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.routes import ROUTES

JOB = ObjectKey('job', 'daily_sales')
STREAM = ObjectKey('job', 'clicks_stream')
SCRIPT = ObjectKey('script', 'sales_sql')
RESOURCE = ObjectKey('resource', 'etl_jar')
CONNECTION = ObjectKey('connection', 'dws_main')
LINK = ObjectKey('cdm-link', 'mysql_src', 'cdm-prod')
LINK2 = ObjectKey('cdm-link', 'dws_dst', 'cdm-prod')
CDM_JOB = ObjectKey('cdm-job', 'orders', 'cdm-prod')

EXPORT_ROUTE = 'POST /v1/{pid}/jobs/batch-export'
LIST_JOBS_ROUTE = 'GET /v1/{pid}/jobs'


@pytest.fixture(params=['local', 'dataarts'])
def workspace(request: pytest.FixtureRequest, fake_clock) -> Iterator[Workspace]:
    """A fresh workspace of each backend; both keep lock time by `fake_clock`."""
    if request.param == 'local':
        yield request.getfixturevalue('local_workspace')
        return
    ws = request.getfixturevalue('running_emulator').workspace(clock=fake_clock)
    yield ws
    ws.close()


def _everything() -> list[tuple[ObjectKey, dict]]:
    """One object of every kind, in apply order."""
    return [
        (CONNECTION, connection_spec('dws_main', password='dws-secret-1')),
        (LINK, link_spec('mysql_src', password='mysql-secret-1')),
        (LINK2, link_spec('dws_dst')),
        (RESOURCE, resource_spec('etl_jar')),
        (SCRIPT, script_spec('sales_sql', content='SELECT * FROM sales;', connection='dws_main')),
        (CDM_JOB, cdm_job_spec('orders', source='mysql_src', target='dws_dst', group='nightly')),
        (JOB, job_spec('daily_sales', scripts=('sales_sql',), connection='dws_main', resource='etl_jar')),
        (STREAM, job_spec('clicks_stream', process_type='REAL_TIME')),
    ]


def test_empty_workspace_lists_nothing(workspace):
    assert workspace.list_objects() == {}
    assert read_all(workspace) == {}


def test_every_kind_written_is_listed_and_read_back(workspace):
    workspace.import_objects(_everything())
    listed = workspace.list_objects()
    assert sorted(listed) == sorted(k for k, _ in _everything())
    assert all(entry.updated > 0 for entry in listed.values())
    live = workspace.read(listed)
    assert sorted(live) == sorted(listed)
    assert live[SCRIPT].spec['content'] == 'SELECT * FROM sales;'
    assert live[JOB].spec['nodes'][0]['properties'][0] == {'name': 'scriptName', 'value': 'sales_sql'}
    assert live[STREAM].spec['processType'] == 'REAL_TIME'  # real-time jobs are listed too
    assert live[RESOURCE].spec['location'] == 'obs://bucket/app.jar'
    assert live[CONNECTION].spec['dw_config']['host'] == '10.0.0.5'
    assert live[CDM_JOB].spec['from-link-name'] == 'mysql_src'
    assert all(live[k].updated == listed[k].updated for k in listed)
    assert listed[JOB].status == live[JOB].status == 'STOPPED'


def test_passwords_are_never_read_back(workspace):
    workspace.import_objects(_everything())
    live = read_all(workspace)
    assert live[CONNECTION].spec['dw_config']['password'] == '*********'
    inputs = {i['name']: i['value'] for i in live[LINK].spec['link-config-values']['configs'][0]['inputs']}
    assert inputs['linkConfig.password'] == 'Add password here'
    assert 'secret' not in repr(live)


def test_values_with_special_characters_round_trip(workspace):
    """CDM values come back URL-encoded over HTTP (reference §9.3): read must decode them."""
    tricky = 'a b/c&d=e%41+f?g#h 作业'
    link = link_spec('mysql_src')
    link['link-config-values']['configs'][0]['inputs'][0]['value'] = tricky
    job = job_spec('作业_daily.v2')
    job['params'] = [{'name': 'p', 'value': tricky, 'type': 'variable'}]
    workspace.import_objects([(LINK, link), (ObjectKey('job', '作业_daily.v2'), job)])
    live = read_all(workspace)
    assert live[LINK].spec['link-config-values']['configs'][0]['inputs'][0]['value'] == tricky
    assert live[ObjectKey('job', '作业_daily.v2')].spec['params'][0]['value'] == tricky


def test_writing_again_overwrites_and_moves_last_update(workspace):
    workspace.import_objects(_everything())
    before = workspace.list_objects()
    changed = [(SCRIPT, script_spec('sales_sql', content='SELECT 2;', connection='dws_main')),
               (JOB, job_spec('daily_sales', scripts=('sales_sql',), connection='dws_main', resource='etl_jar',
                              description='changed'))]
    workspace.import_objects(changed)
    after = workspace.list_objects()
    live = workspace.read(after)
    assert live[SCRIPT].spec['content'] == 'SELECT 2;'
    assert live[JOB].spec['description'] == 'changed'
    assert after[SCRIPT].updated != before[SCRIPT].updated  # a content fingerprint: it moves, no order
    assert after[CONNECTION].updated == before[CONNECTION].updated  # untouched stays untouched
    assert sorted(after) == sorted(before)  # overwritten, not duplicated


def test_read_takes_bare_keys_and_skips_missing_ones(workspace):
    workspace.import_objects(_everything())
    ghost = ObjectKey('job', 'ghost')
    live = workspace.read([JOB, SCRIPT, LINK, ghost, ObjectKey('script', 'ghost')])
    assert sorted(live) == sorted([JOB, SCRIPT, LINK])


def test_jobs_are_read_in_exports_of_at_most_100(workspace):
    items = [(ObjectKey('script', f's{i:03}'), script_spec(f's{i:03}')) for i in range(150)]
    items += [(ObjectKey('job', f'j{i:03}'), job_spec(f'j{i:03}', scripts=(f's{i:03}',))) for i in range(150)]
    for start in range(0, len(items), 100):
        workspace.import_objects(items[start:start + 100])
    workspace.calls.clear()
    listed = workspace.list_objects()
    assert len(listed) == 300
    assert workspace.calls[LIST_JOBS_ROUTE] == 3  # two BATCH pages of 100, one REAL_TIME page
    live = workspace.read(listed)
    assert len(live) == 300
    assert workspace.calls[EXPORT_ROUTE] == 2
    assert live[ObjectKey('script', 's149')].spec['content'] == 'SELECT 1;'


def test_delete_removes_and_a_second_delete_is_not_found(workspace):
    workspace.import_objects(_everything())
    for key in reversed([k for k, _ in _everything()]):
        workspace.delete(key)
    assert workspace.list_objects() == {}
    for key in (JOB, SCRIPT, RESOURCE, CONNECTION, LINK, CDM_JOB):
        with pytest.raises(WorkspaceError) as caught:
            workspace.delete(key)
        assert caught.value.not_found, key


def test_a_link_in_use_cannot_be_deleted(workspace):
    workspace.import_objects(_everything())
    with pytest.raises(WorkspaceError) as caught:
        workspace.delete(LINK)
    assert caught.value.code == 'Cdm.0321'
    assert not caught.value.not_found
    assert LINK in workspace.list_objects()


def test_start_stop_and_status(workspace):
    workspace.import_objects(_everything())
    assert workspace.job_status(JOB) == 'STOPPED'
    workspace.start_job(JOB)
    assert workspace.job_status(JOB) == 'SCHEDULING'
    workspace.start_job(STREAM)
    assert workspace.job_status(STREAM) == 'NORMAL'
    workspace.stop_job(JOB)
    assert workspace.job_status(JOB) == 'STOPPED'
    assert workspace.job_status(CDM_JOB) == 'NEW'
    workspace.start_job(CDM_JOB)
    assert workspace.job_status(CDM_JOB) in ('BOOTING', 'RUNNING', 'SUCCEEDED')
    with pytest.raises(WorkspaceError):
        workspace.job_status(SCRIPT)
    with pytest.raises(WorkspaceError) as caught:
        workspace.job_status(ObjectKey('job', 'ghost'))
    assert caught.value.not_found


def test_starting_a_running_job_is_refused(workspace):
    workspace.import_objects(_everything())
    workspace.start_job(JOB)
    with pytest.raises(WorkspaceError) as caught:
        workspace.start_job(JOB)
    assert caught.value.code == 'DLF.3051'
    assert 'is running' in caught.value.message


def test_run_once_makes_an_instance_that_reaches_success_and_leaves_the_schedule(workspace):
    workspace.import_objects(_everything())
    workspace.calls.clear()
    first = workspace.run_once(JOB)
    second = workspace.run_once(JOB)
    assert first != second  # every run is one more instance
    assert workspace.instance_status(JOB, first) == 'success'  # the engine runs instances in 0 ms by default
    assert workspace.job_status(JOB) == 'STOPPED'  # run-immediate does not start the schedule (reference §4.5)
    assert workspace.calls['POST /v1/{pid}/jobs/{job_name}/run-immediate'] == 2
    assert workspace.calls['GET /v1/{pid}/jobs/{job_name}/instances/{instance_id}'] == 1
    with pytest.raises(WorkspaceError) as caught:
        workspace.instance_status(JOB, '999')
    assert caught.value.not_found
    with pytest.raises(WorkspaceError) as caught:
        workspace.run_once(STREAM)
    assert caught.value.code == 'DLF.0136'  # batch jobs only
    with pytest.raises(WorkspaceError):
        workspace.run_once(CDM_JOB)


def test_refused_object_is_named_with_the_services_reason(workspace):
    bad = {'name': 'broken', 'processType': 'BATCH', 'nodes': [], 'schedule': {'type': 'EXECUTE_ONCE'}}
    with pytest.raises(ImportRefused) as caught:
        workspace.import_objects([(SCRIPT, script_spec('sales_sql')), (ObjectKey('job', 'broken'), bad)])
    assert list(caught.value.reasons) == ['job/broken']
    assert 'DLF.1006' in caught.value.reasons['job/broken']
    assert ObjectKey('job', 'broken') not in workspace.list_objects()


def test_calls_are_counted_by_route(workspace):
    workspace.import_objects(_everything())
    workspace.calls.clear()
    read_all(workspace)
    assert workspace.calls[LIST_JOBS_ROUTE] == 2  # BATCH and REAL_TIME
    assert workspace.calls[EXPORT_ROUTE] == 1
    assert all(' /v1' in route for route in workspace.calls)


# --- jobsync's own records: the state and the lock -----------------------------------------------

MINUTE = 60_000


def _state(serial: int, *keys: ObjectKey) -> State:
    return State('prod', serial, {k: ObjectState(1, 'sha256:a', 'sha256:b', 'rev') for k in keys}, git_rev='rev')


def test_state_is_written_serial_by_serial(workspace):
    assert workspace.read_state('prod') is None
    workspace.write_state(_state(1, JOB))
    with pytest.raises(StateError, match='changed while this apply ran'):
        workspace.write_state(_state(1, SCRIPT))  # another apply wrote serial 1 already
    workspace.write_state(_state(2, JOB, SCRIPT))
    stored = workspace.read_state('prod')
    assert (stored.serial, sorted(stored.objects)) == (2, sorted([SCRIPT, JOB]))
    assert workspace.read_state('dev') is None
    assert workspace.list_objects() == {}  # the records are not objects of the workspace


def test_a_state_larger_than_a_script_holds_round_trips(workspace):
    """20,000 managed objects: about 5 MB of state, more than one 4 MB script (kept in parts over HTTP)."""
    keys = [ObjectKey('job', f'etl_job_{i:05d}_with_a_long_descriptive_name') for i in range(20_000)]
    big = State('prod', 1, {k: ObjectState(1_735_689_600_000 + i, f'sha256:{i:064x}', f'sha256:{i + 1:064x}',
                                           'f' * 40) for i, k in enumerate(keys)}, git_rev='f' * 40)
    workspace.write_state(big)
    assert workspace.read_state('prod') == big
    smaller = State('prod', 2, dict(list(big.objects.items())[:10]), git_rev='e' * 40)
    workspace.write_state(smaller)  # back to one script: the parts of serial 1 are gone
    assert workspace.read_state('prod') == smaller
    assert workspace.list_objects() == {}
    with pytest.raises(StateError, match='changed while this apply ran'):
        workspace.write_state(State('prod', 2, {}, git_rev='x'))


def test_a_held_lock_names_its_holder_and_an_expired_one_is_taken_over(workspace, fake_clock):
    held = workspace.acquire_lock('prod', 'alice@runner-1', 'https://ci.example/runs/42', MINUTE)
    with pytest.raises(LockError) as caught:
        workspace.acquire_lock('prod', 'bob', '', MINUTE)
    assert 'locked by alice@runner-1' in caught.value.message and held.id in caught.value.message
    assert caught.value.holder == held
    assert workspace.acquire_lock('dev', 'bob', '', MINUTE).target == 'dev'  # another target, another lock
    fake_clock.advance(MINUTE)
    taken = workspace.acquire_lock('prod', 'bob', '', MINUTE)
    assert taken.owner == 'bob' and taken.id != held.id
    with pytest.raises(LockError, match='lost the lock on target prod: now held by bob'):
        workspace.renew_lock(held, MINUTE)
    workspace.release_lock(held)  # no longer ours: frees nothing
    with pytest.raises(LockError, match='locked by bob'):
        workspace.acquire_lock('prod', 'carol', '', MINUTE)


def test_renew_release_and_force_unlock(workspace, fake_clock):
    lock = workspace.acquire_lock('prod', 'alice', '', MINUTE)
    fake_clock.advance(MINUTE - 10)
    lock = workspace.renew_lock(lock, MINUTE)
    fake_clock.advance(MINUTE - 10)
    with pytest.raises(LockError):
        workspace.acquire_lock('prod', 'bob', '', MINUTE)
    workspace.release_lock(lock)
    again = workspace.acquire_lock('prod', 'bob', '', MINUTE)
    with pytest.raises(LockError, match=f'no lock with id nope .*prod: bob .*lock id {again.id}'):
        workspace.force_unlock('nope')
    assert workspace.force_unlock(again.id) == again
    assert workspace.acquire_lock('prod', 'carol', '', MINUTE).owner == 'carol'
    assert workspace.list_objects() == {}


# --- one client: the same calls, named the same way, on both backends -------------------------------------


def _plan_like_session(workspace: Workspace) -> Counter[str]:
    """What a plan and a small apply spend once the objects exist: list, read, status, a write, a delete."""
    workspace.import_objects(_everything())
    workspace.calls.clear()
    workspace.read(workspace.list_objects())
    workspace.job_status(JOB)
    workspace.job_status(CDM_JOB)
    workspace.import_objects([(SCRIPT, script_spec('sales_sql', content='SELECT 2;', connection='dws_main'))])
    workspace.delete(STREAM)
    workspace.read_state('prod')
    return Counter(workspace.calls)


def test_the_same_session_reports_identical_calls_on_local_and_over_http(
        local_workspace: LocalWorkspace, running_emulator: RunningEmulator) -> None:
    remote = running_emulator.workspace()
    try:
        over_http = _plan_like_session(remote)
    finally:
        remote.close()
    for cluster in EMULATOR_CLUSTERS:  # the clusters every emulator project has, bought beforehand
        local_workspace.engine.create_cluster(cluster)
    local = _plan_like_session(local_workspace)
    local.pop('GET /v1/{pid}/scripts/{script_name}', None)  # the state: a reserved script over HTTP,
    over_http.pop('GET /v1/{pid}/scripts/{script_name}', None)  # a table of the file on local: (local.py)
    assert local == over_http
    assert 'GET /v1/{pid}/data-connections/{data_connection_id}' in local  # one spelling of every route
    assert all(name.split(' ', 1)[1] in {r.template for r in ROUTES.values()} for name in local)
