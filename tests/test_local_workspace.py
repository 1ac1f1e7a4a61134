from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from workspace_specs import cdm_job_spec, connection_spec, job_spec, link_spec, read_all, resource_spec, script_spec

from jobsync.config import Target
from jobsync.errors import ImportRefused, WorkspaceError
from jobsync.jobdefaults import with_export_defaults
from jobsync.model import ObjectKey
from jobsync.workspace.base import ListEntry, Workspace
from jobsync.workspace.bodies import full_body
from jobsync.workspace.connect import open_workspace
from jobsync.workspace.emulator import Faults
from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.service import Engine

CONN = ObjectKey('connection', 'dws')
SCRIPT = ObjectKey('script', 'load')
RESOURCE = ObjectKey('resource', 'app')
JOB = ObjectKey('job', 'daily')
STREAM = ObjectKey('job', 'stream')
LINK = ObjectKey('cdm-link', 'src', 'cdm-prod')
CDM_JOB = ObjectKey('cdm-job', 'copy', 'cdm-prod')

ITEMS = [
    (CONN, connection_spec('dws', password='hunter2')),
    (SCRIPT, script_spec('load', connection='dws')),
    (RESOURCE, resource_spec('app')),
    (JOB, job_spec('daily', scripts=('load',), connection='dws', resource='app')),
    (STREAM, job_spec('stream', process_type='REAL_TIME')),
    (LINK, link_spec('src', password='link-secret')),
    (CDM_JOB, cdm_job_spec('copy', source='src', target='src', group='nightly')),
]


def test_is_a_workspace(local_workspace):
    ws: Workspace = local_workspace
    assert ws.url.startswith('local:')
    assert ws.calls == Counter()


def test_local_targets_open_relative_to_the_repo_with_a_default_path(tmp_path):
    for url, where in ((f'local:{tmp_path}/nested/dir/ws.db', tmp_path / 'nested' / 'dir' / 'ws.db'),
                       ('local:ws.db', tmp_path / 'ws.db'), ('local:', tmp_path / '.jobsync' / 'workspace.db')):
        ws = open_workspace(Target('t', workspace=url, settings={}), tmp_path, {})
        assert isinstance(ws, LocalWorkspace) and ws.path == where
        assert not where.exists()  # created by the first write, not by opening (issue 12, item 10)
        ws.import_objects([(ObjectKey('job', 'daily'), job_spec('daily'))])
        ws.close()
        assert where.exists()


def test_an_empty_workspace_lists_nothing_with_the_list_calls_only(local_workspace):
    assert local_workspace.list_objects() == {}
    assert local_workspace.calls == Counter({
        'GET /v1/{pid}/jobs': 2,  # BATCH, then REAL_TIME
        'GET /v1/{pid}/scripts': 1,
        'GET /v1/{pid}/resources': 1,
        'GET /v1/{pid}/data-connections': 1,
        'GET /v1.1/{pid}/clusters': 1,
    })


def test_import_then_list_and_read_round_trip(local_workspace, fake_clock):
    local_workspace.import_objects(ITEMS)
    listed = local_workspace.list_objects()
    assert list(listed) == sorted(key for key, _ in ITEMS)
    # jobs and CDM carry an update time; scripts, resources, connections a content fingerprint (issue 11)
    assert all(entry.updated == fake_clock.now for key, entry in listed.items()
               if key.kind in ('job', 'cdm-link', 'cdm-job'))
    assert listed[JOB].status == 'STOPPED'
    assert listed[CDM_JOB].status == 'NEW'

    live = local_workspace.read(listed)
    assert list(live) == list(listed)
    for key, spec in ITEMS:
        got = live[key].spec
        assert live[key].updated == listed[key].updated
        sent = full_body(key.kind, spec)  # as written: with the explicit empty lists
        if key.kind == 'job':  # jobs are read by export, which fills the defaults (jobdefaults.py)
            sent = with_export_defaults(sent)
        for field in spec:
            if field not in ('dw_config', 'link-config-values'):
                assert got[field] == sent[field], (key, field)
    # As the service returns them: masked secrets, server-managed fields present.
    assert live[CONN].spec['dw_config']['password'] == '*********'
    inputs = live[LINK].spec['link-config-values']['configs'][0]['inputs']
    assert {'name': 'linkConfig.password', 'value': 'Add password here'} in inputs
    assert live[JOB].spec['version'] == '1' and 'id' in live[JOB].spec
    assert live[SCRIPT].spec['content'] == 'SELECT 1;'
    assert live[RESOURCE].spec['id']
    assert live[CDM_JOB].spec['group_name'] == 'nightly'
    assert live[JOB].status == 'STOPPED' and live[CDM_JOB].status == 'NEW'
    assert 'lastUpdateTime' not in live[LINK].spec  # lifted into `updated`


def test_read_all_counts_the_calls_the_service_would_see(local_workspace):
    local_workspace.import_objects(ITEMS)
    local_workspace.calls.clear()
    everything = read_all(local_workspace)
    assert len(everything) == len(ITEMS)
    assert local_workspace.calls == Counter({
        'GET /v1/{pid}/jobs': 2,
        'GET /v1/{pid}/scripts': 1,
        'GET /v1/{pid}/resources': 1,
        'GET /v1/{pid}/data-connections': 1,
        # (the cluster list is known since the import wrote into the cluster)
        'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/link/all': 1,
        'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/job/all': 3,  # NORMAL_JOB, BATCH_JOB, SCENARIO_JOB
        # Both jobs in one export, with the script and resource they use; CDM content came with its list.
        'POST /v1/{pid}/jobs/batch-export': 1,
        'GET /v1/{pid}/data-connections/{data_connection_id}': 1,  # no job brought it
    })


def test_jobs_are_listed_in_pages_of_100_and_exported_in_batches_of_100(local_workspace):
    local_workspace.import_objects([(ObjectKey('job', f'j{i:03}'), job_spec(f'j{i:03}')) for i in range(250)])
    local_workspace.calls.clear()
    listed = local_workspace.list_objects()
    assert len(listed) == 250
    assert local_workspace.calls['GET /v1/{pid}/jobs'] == 4  # 100 + 100 + 50 batch, then 0 real-time
    live = local_workspace.read(listed)
    assert len(live) == 250
    assert local_workspace.calls['POST /v1/{pid}/jobs/batch-export'] == 3


def test_read_bare_keys_lists_only_the_kinds_asked_for(local_workspace):
    local_workspace.import_objects(ITEMS)
    local_workspace.calls.clear()
    live = local_workspace.read([SCRIPT, ObjectKey('script', 'ghost'), LINK, ObjectKey('cdm-link', 'x', 'nowhere')])
    assert list(live) == [LINK, SCRIPT]
    assert live[SCRIPT].updated > 0
    assert local_workspace.calls['GET /v1/{pid}/jobs'] == 0
    assert local_workspace.calls['GET /v1/{pid}/scripts'] == 1


def test_read_skips_a_job_deleted_after_listing(local_workspace):
    local_workspace.import_objects(ITEMS)
    listed = local_workspace.list_objects()
    local_workspace.delete(STREAM)
    live = local_workspace.read(listed)
    assert JOB in live and STREAM not in live


def test_a_refused_write_names_the_object_and_the_others_are_written(local_workspace):
    local_workspace.import_objects([(SCRIPT, script_spec('load'))])
    local_workspace.engine.lock_script('load', 'bob')  # someone holds it open in the console
    items = [
        (SCRIPT, script_spec('load', content='SELECT 2;')),
        (ObjectKey('script', 'fine'), script_spec('fine')),
    ]
    with pytest.raises(ImportRefused) as caught:
        local_workspace.import_objects(items)
    assert set(caught.value.reasons) == {'script/load'}
    assert 'DLF.0203' in caught.value.reasons['script/load'] and 'bob' in caught.value.reasons['script/load']
    assert caught.value.written == frozenset({'script/fine'})  # object by object, as against the service
    assert set(local_workspace.list_objects()) == {SCRIPT, ObjectKey('script', 'fine')}
    local_workspace.engine.unlock_script('load')
    local_workspace.import_objects([items[0]])
    assert local_workspace.read([SCRIPT])[SCRIPT].spec['content'] == 'SELECT 2;'


def test_import_creates_missing_clusters(local_workspace):
    local_workspace.import_objects([(LINK, link_spec('src'))])
    assert local_workspace.calls['POST /v1.1/{pid}/clusters'] == 1
    assert [c['name'] for c in local_workspace.engine.list_clusters()['clusters']] == ['cdm-prod']
    local_workspace.import_objects([(LINK, link_spec('src', password='rotated'))])
    assert local_workspace.calls['POST /v1.1/{pid}/clusters'] == 1


def test_an_import_overwrites_and_moves_the_fingerprint(local_workspace, fake_clock):
    local_workspace.import_objects(ITEMS)
    before = local_workspace.list_objects()
    fake_clock.advance(1000)
    local_workspace.import_objects([(SCRIPT, script_spec('load', content='SELECT 2;', connection='dws'))])
    after = local_workspace.list_objects()
    assert after[SCRIPT].updated != before[SCRIPT].updated  # the content fingerprint moved
    assert after[JOB].updated == before[JOB].updated
    assert local_workspace.read([SCRIPT])[SCRIPT].spec['content'] == 'SELECT 2;'


@pytest.mark.parametrize('key', [key for key, _ in ITEMS], ids=str)
def test_delete_each_kind(local_workspace, key):
    local_workspace.import_objects(ITEMS)
    if key == LINK:  # in use by the CDM job: the service refuses, so does the engine
        with pytest.raises(WorkspaceError) as caught:
            local_workspace.delete(LINK)
        assert caught.value.code == 'Cdm.0321'
        local_workspace.delete(CDM_JOB)
    local_workspace.delete(key)
    assert key not in local_workspace.list_objects()
    with pytest.raises(WorkspaceError) as caught:
        local_workspace.delete(key)
    assert caught.value.not_found


def test_start_stop_and_status_of_factory_and_cdm_jobs(tmp_path, fake_clock):
    ws = LocalWorkspace(tmp_path / 'ws.db', clock=fake_clock, cdm_run_ms=5000)
    ws.import_objects(ITEMS)
    assert ws.job_status(JOB) == 'STOPPED'
    ws.start_job(JOB)
    ws.start_job(STREAM)
    assert (ws.job_status(JOB), ws.job_status(STREAM)) == ('SCHEDULING', 'NORMAL')
    ws.stop_job(JOB)
    assert ws.job_status(JOB) == 'STOPPED'
    assert ws.job_status(CDM_JOB) == 'NEW'
    ws.start_job(CDM_JOB)
    assert ws.job_status(CDM_JOB) == 'BOOTING'
    fake_clock.advance(1)
    assert ws.job_status(CDM_JOB) == 'RUNNING'
    assert ws.list_objects()[CDM_JOB].status == 'RUNNING'
    ws.stop_job(CDM_JOB)
    assert ws.job_status(CDM_JOB) == 'FAILED'
    assert ws.calls['PUT /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/start'] == 1
    assert ws.calls['POST /v1/{pid}/jobs/{job_name}/start'] == 2
    with pytest.raises(WorkspaceError):
        ws.start_job(SCRIPT)
    ws.close()


def test_another_process_sees_the_same_workspace(tmp_path):
    path = tmp_path / 'ws.db'
    first = LocalWorkspace(path)
    first.import_objects(ITEMS)
    second = Engine(path)
    assert second.show_job('daily')['name'] == 'daily'
    assert second.list_jobs(job_type='REAL_TIME')['total'] == 1
    first.close()
    second.close()


def test_list_entries_have_the_list_entry_type(local_workspace):
    local_workspace.import_objects(ITEMS)
    assert all(isinstance(entry, ListEntry) for entry in local_workspace.list_objects().values())


@pytest.mark.parametrize('fault', ['drop', '5xx'])
def test_a_lost_answer_in_process_is_survived_as_over_http(local_workspace: LocalWorkspace, fault: str) -> None:
    """The create went through but its answer was lost: the same client code looks before it
    writes again, so the resource exists once (a second create would make a second id)."""
    local_workspace.list_objects()  # the workspace is known to be empty
    local_workspace.gateway.faults = Faults(drop_rate=0.9 if fault == 'drop' else 0.0,
                                            fault_rate=0.9 if fault == '5xx' else 0.0,
                                            phase='after', max_faults=1, seed=1)
    local_workspace.import_objects([(RESOURCE, resource_spec('app'))])
    assert local_workspace.gateway.stats[f'{fault}-after'] == 1
    assert local_workspace.calls['POST /v1/{pid}/resources'] == 1  # not repeated blindly
    assert local_workspace.engine.list_resources()['total'] == 1


def test_local_needs_neither_httpx_nor_starlette(tmp_path: Path) -> None:
    """The core install (no `http` or `emulator` extra) runs `local:` targets."""
    code = ('import sys\n'
            'from jobsync.workspace.local import LocalWorkspace\n'
            f'ws = LocalWorkspace({str(tmp_path / "ws.db")!r})\n'
            'ws.list_objects(); ws.close()\n'
            "print(sorted(m for m in ('httpx', 'starlette', 'uvicorn') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == '[]'
