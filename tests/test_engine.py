from __future__ import annotations

import base64
import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
import zipfile

import pytest
from workspace_specs import cdm_job_spec, connection_spec, job_spec, link_spec, resource_spec, script_spec

from jobsync.errors import WorkspaceError
from jobsync.jobdefaults import with_export_defaults
from jobsync.model import ObjectKey
from jobsync.workspace.bodies import without_export_flags
from jobsync.workspace.package import build_package
from jobsync.workspace.service import Engine, EngineError


def _names(data: bytes) -> list[str]:
    return sorted(zipfile.ZipFile(io.BytesIO(data)).namelist())


def _subtasks(task):
    return {sub['object']: (sub['status'], sub['message']) for sub in task['subtasks']}


def _with_cluster(engine: Engine, name: str = 'cdm-prod') -> str:
    return engine.create_cluster(name)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(('call', 'code', 'family'), [
    (lambda e: e.show_job('nope'), 'DLF.0100', 'dlf'),
    (lambda e: e.show_script('nope'), 'DLF.6201', 'dlf'),
    (lambda e: e.show_resource('nope'), 'DLF.6241', 'dlf'),
    (lambda e: e.show_connection('nope'), 'DAYU.1005', 'dayu'),
    (lambda e: e.get_task('nope'), 'DLF.0810', 'dlf'),
    (lambda e: e.show_cdm_job(e.create_cluster('c'), 'nope'), 'Cdm.0100', 'cdm'),
    (lambda e: e.show_link(e.create_cluster('c'), 'nope'), 'Cdm.0101', 'cdm'),
    (lambda e: e.cluster_id('nope'), 'Cdm.0001', 'cdm'),
], ids=['job', 'script', 'resource', 'connection', 'task', 'cdm-job', 'cdm-link', 'cluster'])
def test_not_found_codes_are_the_services(engine, call, code, family):
    with pytest.raises(EngineError) as caught:
        call(engine)
    err = caught.value
    assert (err.code, err.family, err.status, err.not_found) == (code, family, 400, True)
    assert isinstance(err, WorkspaceError)


@pytest.mark.parametrize(('create', 'code'), [
    (lambda e: e.create_job(job_spec('j')), 'DLF.0102'),
    (lambda e: e.create_script(script_spec('s')), 'DLF.0202'),
    (lambda e: e.create_resource(resource_spec('r')), 'DLF.6259'),
    (lambda e: e.create_link(e.cluster_id('c'), link_spec('l')), 'Cdm.0315'),
    (lambda e: e.create_cdm_job(e.cluster_id('c'), cdm_job_spec('cj', source='l', target='l')), 'Cdm.0104'),
], ids=['job', 'script', 'resource', 'cdm-link', 'cdm-job'])
def test_duplicate_creates_are_refused(engine, create, code):
    engine.create_cluster('c')
    engine.create_link(engine.cluster_id('c'), link_spec('l'))
    if code != 'Cdm.0315':  # the link exists already
        create(engine)
    with pytest.raises(EngineError) as caught:
        create(engine)
    assert caught.value.code == code
    assert not caught.value.not_found


# --- jobs ------------------------------------------------------------------------------------


def test_show_job_echoes_unknown_fields_and_adds_server_fields(engine):
    engine.create_job(job_spec('j', useCdmCache=False, resouces=[]))
    shown = engine.show_job('j')
    assert shown['useCdmCache'] is False and shown['resouces'] == []
    assert isinstance(shown['id'], int)
    assert (shown['lastUpdateUser'], shown['version']) == ('jobsync', '1')


def test_job_without_nodes_is_refused(engine):
    with pytest.raises(EngineError) as caught:
        engine.create_job({'name': 'empty', 'nodes': [], 'processType': 'BATCH'})
    assert caught.value.code == 'DLF.1006'


def test_job_status_machine(engine):
    engine.create_job(job_spec('batch'))
    engine.create_job(job_spec('stream', process_type='REAL_TIME'))
    assert engine.job_status('batch') == 'STOPPED'
    engine.start_job('batch')
    engine.start_job('stream')
    assert (engine.job_status('batch'), engine.job_status('stream')) == ('SCHEDULING', 'NORMAL')
    with pytest.raises(EngineError) as caught:
        engine.start_job('batch')
    assert caught.value.code == 'DLF.3051' and 'is running' in caught.value.message
    engine.stop_job('batch')
    assert engine.job_status('batch') == 'STOPPED'


def test_run_once_job_cannot_be_started(engine):
    engine.create_job(job_spec('once', schedule={'type': 'EXECUTE_ONCE'}))
    with pytest.raises(EngineError) as caught:
        engine.start_job('once')
    assert caught.value.code == 'DLF.3051'


def test_run_immediate_makes_an_instance_that_succeeds(tmp_path, fake_clock):
    engine = Engine(tmp_path / 'e.db', clock=fake_clock, instance_run_ms=5000)
    engine.create_job(job_spec('batch'))
    instance = engine.run_immediate('batch')
    assert engine.get_instance('batch', instance)['status'] == 'running'
    fake_clock.advance(5000)
    assert engine.get_instance('batch', instance)['status'] == 'success'
    assert engine.job_status('batch') == 'STOPPED'  # a run does not change the schedule state
    engine.create_job(job_spec('stream', process_type='REAL_TIME'))
    with pytest.raises(EngineError) as caught:
        engine.run_immediate('stream')
    assert caught.value.code == 'DLF.0136'
    with pytest.raises(EngineError) as caught:
        engine.get_instance('batch', 999)
    assert caught.value.code == 'DLF.0137'


def test_paging_by_record_offset(engine):
    for i in range(25):
        engine.create_job(job_spec(f'job_{i:02}'))
    pages = [engine.list_jobs(limit=10, offset=offset) for offset in (0, 10, 20, 30)]
    assert [p['total'] for p in pages] == [25] * 4
    assert [len(p['jobs']) for p in pages] == [10, 10, 5, 0]
    names = [job['name'] for p in pages for job in p['jobs']]
    assert names == sorted(f'job_{i:02}' for i in range(25))
    with pytest.raises(EngineError) as caught:
        engine.list_jobs(limit=101)
    assert caught.value.code == 'DLF.3051'


def test_real_time_jobs_are_listed_only_when_asked_for(engine):
    engine.create_job(job_spec('batch_a'))
    engine.create_job(job_spec('stream_a', process_type='REAL_TIME'))
    assert [j['name'] for j in engine.list_jobs()['jobs']] == ['batch_a']
    assert [j['name'] for j in engine.list_jobs(job_type='REAL_TIME')['jobs']] == ['stream_a']
    assert [j['name'] for j in engine.list_jobs(job_name='tch_')['jobs']] == ['batch_a']


def test_job_list_entries_are_job_results(engine):
    engine.create_job(job_spec('j'))
    (entry,) = engine.list_jobs()['jobs']
    assert entry == {
        'name': 'j', 'jobType': 'BATCH', 'status': 'STOPPED', 'owner': 'alice', 'priority': 0,
        'createUser': 'jobsync', 'createTime': entry['createTime'], 'lastUpdateTime': entry['lastUpdateTime'],
        'lastUpdateUser': 'jobsync', 'path': '/etl', 'singleNodeJobFlag': False,
    }


# --- lastUpdateTime ----------------------------------------------------------------------------


def _seed_every_kind(engine: Engine) -> str:
    cluster = _with_cluster(engine)
    engine.create_connection(connection_spec('dws'))
    engine.create_script(script_spec('s'))
    engine.create_resource(resource_spec('r'))
    engine.create_job(job_spec('batch'))
    engine.create_job(job_spec('stream', process_type='REAL_TIME'))
    engine.create_link(cluster, link_spec('src'))
    engine.create_cdm_job(cluster, cdm_job_spec('copy', source='src', target='src'))
    engine.create_cdm_job(cluster, cdm_job_spec('whole_db', source='src', target='src', job_type='BATCH_JOB'))
    return cluster


def test_list_entries_carry_only_the_update_marker_their_sdk_model_defines(engine, fake_clock):
    # issue 11: JobResult has `lastUpdateTime`, CDM Links/Job `update-date`; ScriptInfo,
    # ResourceInfo, ApigDataSourceView and Clusters have no update time at all.
    cluster = _seed_every_kind(engine)
    marked = {
        'jobs': (engine.list_jobs()['jobs'] + engine.list_jobs(job_type='REAL_TIME')['jobs'], 'lastUpdateTime'),
        'links': (engine.list_links(cluster)['links'], 'update-date'),
        'cdm jobs': (engine.list_cdm_jobs(cluster)['jobs']
                     + engine.list_cdm_jobs(cluster, job_type='BATCH_JOB')['jobs'], 'update-date'),
    }
    for what, (entries, field) in marked.items():
        assert entries, what
        for entry in entries:
            assert entry[field] == fake_clock.now, (what, entry)
            assert 'lastUpdateTime' not in entry or field == 'lastUpdateTime'
    unmarked = {
        'scripts': engine.list_scripts()['scripts'],
        'resources': engine.list_resources()['resources'],
        'connections': engine.list_connections()['data_connection_lists'],
        'clusters': engine.list_clusters()['clusters'],
    }
    for what, entries in unmarked.items():
        assert entries, what
        for entry in entries:
            assert 'lastUpdateTime' not in entry, (what, entry)
    assert all(isinstance(s['content'], str) and isinstance(s['id'], str) for s in unmarked['scripts'])


def test_update_markers_move_on_every_write(engine, fake_clock):
    cluster = _seed_every_kind(engine)
    before = fake_clock.now
    fake_clock.advance(1000)
    engine.update_job('batch', job_spec('batch', description='changed'))
    engine.update_script('s', script_spec('s', content='SELECT 2;'))
    engine.update_resource(engine.resource_id('r'), resource_spec('r', location='obs://b/other.jar'))
    engine.update_link(cluster, 'src', link_spec('src', password='new'))
    engine.update_cdm_job(cluster, 'copy', cdm_job_spec('copy', source='src', target='src', group='g'))
    after = fake_clock.now
    assert {j['name']: j['lastUpdateTime'] for j in engine.list_jobs()['jobs']} == {'batch': after}
    assert engine.list_scripts()['scripts'][0]['content'] == 'SELECT 2;'  # the list carries the content
    assert engine.list_resources()['resources'][0]['location'] == 'obs://b/other.jar'
    assert engine.list_links(cluster)['links'][0]['update-date'] == after
    assert {j['name']: j['update-date'] for j in engine.list_cdm_jobs(cluster)['jobs']} == {'copy': after}
    assert engine.list_jobs(job_type='REAL_TIME')['jobs'][0]['lastUpdateTime'] == before  # untouched


def test_two_writes_in_the_same_millisecond_still_move_last_update_time(engine):
    engine.create_job(job_spec('j'))
    first = engine.list_jobs()['jobs'][0]['lastUpdateTime']
    engine.update_job('j', job_spec('j', description='changed'))  # the fake clock did not move
    assert engine.list_jobs()['jobs'][0]['lastUpdateTime'] > first


# --- secrets -----------------------------------------------------------------------------------


def _stored_spec(engine: Engine, kind: str, name: str) -> dict:
    with sqlite3.connect(engine.path) as conn:
        (spec,) = conn.execute('SELECT spec FROM objects WHERE kind=? AND name=?', (kind, name)).fetchone()
    return json.loads(spec)


def _connection_id(engine: Engine, name: str) -> str:
    """A connection's `dw_id`, found the way a client finds it: in the connection list."""
    (entry,) = [c for c in engine.list_connections(name=name)['data_connection_lists'] if c['dw_name'] == name]
    return str(entry['dw_id'])


def _stored_lock(engine: Engine, script: str) -> str | None:
    """Who holds a script's lock: no route says it, so read the file the service keeps."""
    with sqlite3.connect(engine.path) as conn:
        (user,) = conn.execute("SELECT lock_user FROM objects WHERE kind='script' AND name=?", (script,)).fetchone()
    return None if user is None else str(user)


def test_link_secrets_read_back_as_add_password_here(engine):
    cluster = _with_cluster(engine)
    spec = link_spec('obs')
    spec['link-config-values']['configs'][0]['inputs'] += [
        {'name': 'linkConfig.securityKey', 'value': 'SK-real'},
        {'name': 'linkConfig.sk', 'value': 'sk-real'},
        {'name': 'linkConfig.keytab', 'value': 'keytab-bytes'},
        {'name': 'linkConfig.accessKey', 'value': 'AK-visible'},
    ]
    engine.create_link(cluster, spec)
    for shown in (engine.show_link(cluster, 'obs'), engine.list_links(cluster)['links'][0]):
        inputs = {i['name']: i['value'] for i in shown['link-config-values']['configs'][0]['inputs']}
        assert inputs == {
            'linkConfig.host': '10.0.0.7', 'linkConfig.username': 'etl', 'linkConfig.accessKey': 'AK-visible',
            'linkConfig.password': 'Add password here', 'linkConfig.securityKey': 'Add password here',
            'linkConfig.sk': 'Add password here', 'linkConfig.keytab': 'Add password here',
        }
        assert 'link-secret' not in json.dumps(shown)
    # The service has the real value: it is stored, just never returned.
    stored = _stored_spec(engine, 'cdm-link', 'obs')['link-config-values']['configs'][0]['inputs']
    assert {'name': 'linkConfig.password', 'value': 'link-secret'} in stored


def test_connection_passwords_read_back_masked(engine):
    spec = connection_spec('dws', password='hunter2')
    spec['dw_config'].update(PASSWORD='p2', kafkaPassword='p3', user='dbadmin')
    dw_id = engine.create_connection(spec)
    config = engine.show_connection(dw_id)['dw_config']
    assert (config['password'], config['PASSWORD'], config['kafkaPassword']) == ('*********',) * 3
    assert config['user'] == 'dbadmin'
    assert 'hunter2' not in json.dumps(engine.list_connections())
    assert _stored_spec(engine, 'connection', 'dws')['dw_config']['password'] == 'hunter2'


def test_connections_are_addressed_by_a_32_hex_id(engine):
    dw_id = engine.create_connection(connection_spec('dws'))
    assert len(dw_id) == 32 and int(dw_id, 16) >= 0
    assert _connection_id(engine, 'dws') == dw_id
    shown = engine.show_connection(dw_id)
    assert (shown['dw_name'], shown['dw_id'], shown['agent_name']) == ('dws', dw_id, 'cdm-agent')


def test_resources_are_addressed_by_id_and_may_be_renamed(engine):
    rid = engine.create_resource(resource_spec('r'))
    engine.update_resource(rid, resource_spec('renamed'))
    assert engine.show_resource(rid)['name'] == 'renamed'
    assert engine.resource_id('renamed') == rid
    engine.delete_resource(rid)
    assert engine.list_resources()['total'] == 0


# --- versions ----------------------------------------------------------------------------------


def test_versions_accumulate_on_create_update_and_import(engine):
    engine.create_job(job_spec('j'))
    engine.update_job('j', job_spec('j', description='second'))
    engine.import_package(build_package([(ObjectKey('job', 'j'), job_spec('j', description='third'))]), 'OVERWRITE')
    versions = engine.versions('job', 'j')
    assert [v['version'] for v in versions] == [1, 2, 3]
    assert [v['spec'].get('description') for v in versions] == [None, 'second', 'third']
    assert engine.show_job('j')['version'] == '3'
    engine.create_script(script_spec('s'))
    engine.import_package(build_package([(ObjectKey('script', 's'), script_spec('s', content='x'))]), 'OVERWRITE')
    assert [v['version'] for v in engine.versions('script', 's')] == [1, 2]
    assert engine.show_script('s')['version'] == 2


# --- export ------------------------------------------------------------------------------------


def test_batch_export_refuses_more_than_100_jobs(engine):
    for i in range(101):
        engine.create_job(job_spec(f'j{i:03}'))
    names = [f'j{i:03}' for i in range(101)]
    with pytest.raises(EngineError) as caught:
        engine.export_jobs(names)
    assert caught.value.code == 'DLF.3051'
    assert 'at most 100 jobs' in caught.value.message
    assert len(_names(engine.export_jobs(names[:100]))) == 100


def test_batch_export_of_an_unknown_job_fails(engine):
    engine.create_job(job_spec('j'))
    with pytest.raises(EngineError) as caught:
        engine.export_jobs(['j', 'ghost'])
    assert caught.value.code == 'DLF.0100'


def test_batch_export_layout_with_dependencies(engine):
    engine.create_script(script_spec('load'))
    engine.create_resource(resource_spec('app'))
    engine.create_job(job_spec('daily', scripts=('load',), resource='app'))
    engine.create_job(job_spec('hourly', scripts=('load',)))
    data = engine.export_jobs(['daily', 'hourly'])
    assert _names(data) == [
        'jobs/daily/app.resource', 'jobs/daily/daily.job', 'jobs/daily/load.script',
        'jobs/hourly/hourly.job', 'jobs/hourly/load.script',
    ]
    archive = zipfile.ZipFile(io.BytesIO(data))
    # exports add `"value_is_sensitive": false` to each node property and the defaults of what the
    # definition left out (issue 11, jobdefaults.py); nothing else
    exported = json.loads(archive.read('jobs/daily/daily.job'))
    assert all(p['value_is_sensitive'] is False for node in exported['nodes'] for p in node['properties'])
    assert without_export_flags(exported) == with_export_defaults(engine.show_job('daily'))
    assert exported['nodes'][0]['pollingInterval'] == 10 and exported['schedule']['scheduleOffset'] == 1
    assert json.loads(archive.read('jobs/daily/load.script')) == engine.show_script('load')
    assert _names(engine.export_jobs(['daily'], export_depend=False)) == ['jobs/daily/daily.job']


def test_single_export_layout(engine):
    engine.create_script(script_spec('load'))
    engine.create_resource(resource_spec('app'))
    engine.create_job(job_spec('daily', scripts=('load',), resource='app'))
    assert _names(engine.export_job('daily')) == [
        'jobs/daily.job', 'resources/app.resource', 'scripts/load.script']


def test_an_export_imports_back_as_is(engine, tmp_path, fake_clock):
    engine.create_connection(connection_spec('dws'))
    engine.create_script(script_spec('load', connection='dws'))
    engine.create_job(job_spec('daily', scripts=('load',), connection='dws'))
    other = Engine(tmp_path / 'other.db', clock=fake_clock)
    other.create_connection(connection_spec('dws'))
    task = other.import_package(engine.export_jobs(['daily']))
    assert task['status'] == 'SUCCESSFUL'
    assert other.show_script('load')['content'] == 'SELECT 1;'
    # imported as exported: with the defaults the export filled in
    assert (without_export_flags(other.show_job('daily'))['nodes']
            == with_export_defaults(engine.show_job('daily'))['nodes'])


# --- import ------------------------------------------------------------------------------------


def test_import_writes_every_kind(engine):
    cluster = _with_cluster(engine)
    items = [
        (ObjectKey('connection', 'dws'), connection_spec('dws')),
        (ObjectKey('script', 's'), script_spec('s', connection='dws')),
        (ObjectKey('resource', 'r'), resource_spec('r')),
        (ObjectKey('job', 'j'), job_spec('j', scripts=('s',), connection='dws')),
        (ObjectKey('cdm-link', 'src', 'cdm-prod'), link_spec('src')),
        (ObjectKey('cdm-job', 'copy', 'cdm-prod'), cdm_job_spec('copy', source='src', target='src')),
    ]
    task = engine.import_package(build_package(items))
    assert task['status'] == 'SUCCESSFUL'
    assert {status for status, _ in _subtasks(task).values()} == {'SUCCESSFUL'}
    assert engine.get_task(task['id']) == task
    assert engine.job_status('j') == 'STOPPED'
    assert engine.show_cdm_job(cluster, 'copy')['status'] == 'NEW'
    assert engine.show_connection(_connection_id(engine, 'dws'))['dw_type'] == 'DWS'


def test_skip_leaves_same_named_objects_untouched_and_overwrite_replaces_them(engine):
    engine.create_script(script_spec('s', content='old'))
    engine.create_job(job_spec('j', description='old'))
    package = build_package([
        (ObjectKey('script', 's'), script_spec('s', content='new')),
        (ObjectKey('job', 'j'), job_spec('j', description='new')),
        (ObjectKey('job', 'fresh'), job_spec('fresh')),
    ])
    task = engine.import_package(package, 'SKIP')
    assert task['status'] == 'SUCCESSFUL'
    assert {k: s for k, (s, _) in _subtasks(task).items()} == {
        'script/s': 'SKIPPED', 'job/j': 'SKIPPED', 'job/fresh': 'SUCCESSFUL'}
    assert engine.show_script('s')['content'] == 'old'
    assert engine.show_job('j')['description'] == 'old'
    assert engine.show_job('j')['version'] == '1'
    task = engine.import_package(package, 'OVERWRITE')
    assert {s for s, _ in _subtasks(task).values()} == {'SUCCESSFUL'}
    assert engine.show_script('s')['content'] == 'new'
    assert (engine.show_job('j')['description'], engine.show_job('j')['version']) == ('new', '2')


def test_imported_objects_get_a_fresh_last_update_time(engine, fake_clock):
    engine.create_job(job_spec('j'))
    fake_clock.advance(60_000)
    engine.import_package(build_package([(ObjectKey('job', 'j'), job_spec('j'))]), 'OVERWRITE')
    assert engine.list_jobs()['jobs'][0]['lastUpdateTime'] == fake_clock.now


def test_package_over_one_megabyte_is_refused_whole(engine):
    noise = base64.b64encode(os.urandom(1_200_000)).decode()  # 1.6 MB that deflate keeps above 1.2 MB
    items = [
        (ObjectKey('connection', 'dws'), connection_spec('dws')),
        (ObjectKey('job', 'j'), job_spec('j', scripts=('big',), connection='dws')),
        (ObjectKey('script', 'big'), script_spec('big', content=noise)),
    ]
    package = build_package(items)
    assert len(package) > 1024 * 1024
    task = engine.import_package(package, 'OVERWRITE')
    assert task['status'] == 'FAILED'
    subtasks = _subtasks(task)
    assert set(subtasks) == {'connection/dws', 'job/j', 'script/big'}
    for status, message in subtasks.values():
        assert status == 'FAILED' and '1048576' in message
    assert engine.list_jobs()['total'] == 0
    assert engine.list_scripts()['total'] == 0
    assert engine.list_connections()['total_size'] == 0
    # The same objects in packages under the limit go through.
    assert engine.import_package(package, 'OVERWRITE', max_bytes=4 * 1024 * 1024)['status'] == 'SUCCESSFUL'


def test_overwriting_a_running_job_is_refused_until_it_is_stopped(engine):
    engine.create_job(job_spec('j', description='old'))
    engine.start_job('j')
    package = build_package([
        (ObjectKey('job', 'j'), job_spec('j', description='new')),
        (ObjectKey('script', 'innocent'), script_spec('innocent')),
    ])
    task = engine.import_package(package, 'OVERWRITE')
    assert task['status'] == 'FAILED'
    status, message = _subtasks(task)['job/j']
    assert status == 'FAILED' and 'must be stopped before it is overwritten' in message
    assert _subtasks(task)['script/innocent'][0] == 'CANCELLED'
    assert engine.list_scripts()['total'] == 0  # all or nothing
    assert engine.show_job('j')['description'] == 'old'
    # SKIP does not touch it, so it does not need stopping.
    assert engine.import_package(package, 'SKIP')['status'] == 'SUCCESSFUL'
    engine.stop_job('j')
    assert engine.import_package(package, 'OVERWRITE')['status'] == 'SUCCESSFUL'
    assert engine.show_job('j')['description'] == 'new'


def test_a_script_locked_by_another_user_cannot_be_overwritten(engine):
    engine.create_script(script_spec('s', content='old'))
    engine.lock_script('s', 'alice')
    package = build_package([(ObjectKey('script', 's'), script_spec('s', content='new'))])
    task = engine.import_package(package, 'OVERWRITE')
    assert task['status'] == 'FAILED'
    assert 'locked by alice' in _subtasks(task)['script/s'][1]
    assert engine.show_script('s')['content'] == 'old'
    with pytest.raises(EngineError):
        engine.update_script('s', script_spec('s', content='new'))
    engine.lock_script('s', 'jobsync')  # our own lock does not stand in the way
    assert engine.import_package(package, 'OVERWRITE')['status'] == 'SUCCESSFUL'
    assert _stored_lock(engine, 's') == 'jobsync'
    engine.unlock_script('s')
    assert _stored_lock(engine, 's') is None


def test_a_missing_connection_fails_the_import(engine):
    items = [
        (ObjectKey('script', 's'), script_spec('s', connection='dws')),
        (ObjectKey('job', 'j'), job_spec('j', scripts=('s',), connection='dws')),
    ]
    task = engine.import_package(build_package(items))
    assert task['status'] == 'FAILED'
    subtasks = _subtasks(task)
    assert 'data connection dws' in subtasks['script/s'][1]
    assert 'Node run_s uses data connection dws' in subtasks['job/j'][1]
    assert engine.list_jobs()['total'] == 0
    # In the package, or already in the workspace: both do.
    with_conn = [*items, (ObjectKey('connection', 'dws'), connection_spec('dws'))]
    assert engine.import_package(build_package(with_conn))['status'] == 'SUCCESSFUL'
    other = engine.scoped('local', 'other')
    other.create_connection(connection_spec('dws'))
    assert other.import_package(build_package(items))['status'] == 'SUCCESSFUL'


def test_a_cdm_job_needs_its_links_in_the_cluster_or_the_package(engine):
    cluster = _with_cluster(engine)
    job = (ObjectKey('cdm-job', 'copy', 'cdm-prod'), cdm_job_spec('copy', source='src', target='dst'))
    task = engine.import_package(build_package([job, (ObjectKey('cdm-link', 'src', 'cdm-prod'), link_spec('src'))]))
    assert task['status'] == 'FAILED'
    assert 'link dst does not exist' in _subtasks(task)['cdm-job/cdm-prod/copy'][1]
    engine.create_link(cluster, link_spec('dst'))
    task = engine.import_package(build_package([job, (ObjectKey('cdm-link', 'src', 'cdm-prod'), link_spec('src'))]))
    assert task['status'] == 'SUCCESSFUL'


def test_cdm_objects_for_an_unknown_cluster_are_refused(engine):
    task = engine.import_package(build_package([(ObjectKey('cdm-link', 'src', 'nowhere'), link_spec('src'))]))
    assert task['status'] == 'FAILED'
    assert 'Cdm.0001' in _subtasks(task)['cdm-link/nowhere/src'][1]


def test_an_unreadable_package_fails_its_task(engine):
    task = engine.import_package(b'PK\x03\x04 definitely not a zip')
    assert task['status'] == 'FAILED'
    assert task['subtasks'][0]['name'] == 'Read the package.'
    assert engine.get_task(task['id'])['status'] == 'FAILED'


def test_a_bad_same_name_policy_is_refused(engine):
    with pytest.raises(EngineError) as caught:
        engine.import_package(build_package([]), 'REPLACE')
    assert caught.value.code == 'DLF.3051'


# --- CDM -------------------------------------------------------------------------------------


def test_cdm_job_submission_advances_with_the_clock(tmp_path, fake_clock):
    engine = Engine(tmp_path / 'e.db', clock=fake_clock, cdm_run_ms=10_000)
    cluster = engine.create_cluster('c')
    engine.create_link(cluster, link_spec('src'))
    engine.create_cdm_job(cluster, cdm_job_spec('copy', source='src', target='src'))
    assert engine.cdm_job_status(cluster, 'copy') == {'submissions': []}
    started = engine.start_cdm_job(cluster, 'copy')
    assert started['submissions'][0]['status'] == 'BOOTING'
    fake_clock.advance(1)
    assert engine.cdm_job_status(cluster, 'copy')['submissions'][0]['status'] == 'RUNNING'
    assert engine.show_cdm_job(cluster, 'copy')['status'] == 'RUNNING'
    for call, code in [
        (lambda: engine.update_cdm_job(cluster, 'copy', cdm_job_spec('copy', source='src', target='src')), 'Cdm.0052'),
        (lambda: engine.delete_cdm_job(cluster, 'copy'), 'Cdm.0052'),
        (lambda: engine.start_cdm_job(cluster, 'copy'), 'Cdm.0052'),
        (lambda: engine.delete_link(cluster, 'src'), 'Cdm.0321'),
    ]:
        with pytest.raises(EngineError) as caught:
            call()
        assert caught.value.code == code
    fake_clock.advance(10_000)
    assert engine.cdm_job_status(cluster, 'copy')['submissions'][0]['status'] == 'SUCCEEDED'
    with pytest.raises(EngineError) as caught:
        engine.stop_cdm_job(cluster, 'copy')
    assert caught.value.code == 'Cdm.0053'
    engine.update_cdm_job(cluster, 'copy', cdm_job_spec('copy', source='src', target='src', group='g'))


def test_cdm_job_succeeds_by_the_next_query_by_default(engine):
    cluster = _with_cluster(engine)
    engine.create_link(cluster, link_spec('src'))
    engine.create_cdm_job(cluster, cdm_job_spec('copy', source='src', target='src'))
    assert engine.start_cdm_job(cluster, 'copy')['submissions'][0]['status'] == 'BOOTING'
    assert engine.cdm_job_status(cluster, 'copy')['submissions'][0]['status'] == 'SUCCEEDED'


def test_stopping_a_running_cdm_job_fails_its_submission(tmp_path, fake_clock):
    engine = Engine(tmp_path / 'e.db', clock=fake_clock, cdm_run_ms=10_000)
    cluster = engine.create_cluster('c')
    engine.create_link(cluster, link_spec('src'))
    engine.create_cdm_job(cluster, cdm_job_spec('copy', source='src', target='src'))
    engine.start_cdm_job(cluster, 'copy')
    engine.stop_cdm_job(cluster, 'copy')
    assert engine.show_cdm_job(cluster, 'copy')['status'] == 'FAILED'
    engine.delete_cdm_job(cluster, 'copy')


def test_a_link_in_use_cannot_be_deleted(engine):
    cluster = _with_cluster(engine)
    engine.create_link(cluster, link_spec('src'))
    engine.create_link(cluster, link_spec('spare'))
    engine.create_cdm_job(cluster, cdm_job_spec('copy', source='src', target='src'))
    with pytest.raises(EngineError) as caught:
        engine.delete_link(cluster, 'src')
    assert (caught.value.code, caught.value.family) == ('Cdm.0321', 'cdm')
    engine.delete_link(cluster, 'spare')
    engine.delete_cdm_job(cluster, 'copy')
    engine.delete_link(cluster, 'src')
    assert engine.list_links(cluster) == {'links': []}


def test_a_cdm_job_needs_existing_links(engine):
    cluster = _with_cluster(engine)
    with pytest.raises(EngineError) as caught:
        engine.create_cdm_job(cluster, cdm_job_spec('copy', source='ghost', target='ghost'))
    assert caught.value.code == 'Cdm.0101'


def test_cdm_jobs_report_their_group(engine: Engine) -> None:
    cluster = _with_cluster(engine)
    engine.create_link(cluster, link_spec('src'))
    for name, group in [('a', 'nightly'), ('b', 'nightly'), ('c', None), ('d', 'adhoc')]:
        engine.create_cdm_job(cluster, cdm_job_spec(name, source='src', target='src', group=group))
    listed = {j['name']: j['group_name'] for j in engine.list_cdm_jobs(cluster)['jobs']}
    assert listed == {'a': 'nightly', 'b': 'nightly', 'c': 'DEFAULT', 'd': 'adhoc'}
    assert engine.show_cdm_job(cluster, 'a')['group_name'] == 'nightly'


def test_cdm_job_list_filters_by_job_type_and_pages(engine):
    cluster = _with_cluster(engine)
    engine.create_link(cluster, link_spec('src'))
    for i in range(12):
        engine.create_cdm_job(cluster, cdm_job_spec(f'n{i:02}', source='src', target='src'))
    engine.create_cdm_job(cluster, cdm_job_spec('whole', source='src', target='src', job_type='BATCH_JOB'))
    first = engine.list_cdm_jobs(cluster, page_size=10)
    second = engine.list_cdm_jobs(cluster, page_no=2, page_size=10)
    assert (first['total'], len(first['jobs']), len(second['jobs'])) == (12, 10, 2)
    assert [j['name'] for j in engine.list_cdm_jobs(cluster, job_type='BATCH_JOB')['jobs']] == ['whole']


def test_clusters(engine):
    cid = engine.create_cluster('cdm-prod', id='bae65496-643e-47ca-84af-948672de7eeb')
    assert cid == 'bae65496-643e-47ca-84af-948672de7eeb'
    assert engine.cluster_id('cdm-prod') == cid
    (cluster,) = engine.list_clusters()['clusters']
    assert (cluster['name'], cluster['status']) == ('cdm-prod', '200')
    with pytest.raises(EngineError):
        engine.create_cluster('cdm-prod')


# --- spaces and sharing ------------------------------------------------------------------------


def test_projects_and_workspaces_are_kept_apart(engine):
    engine.create_job(job_spec('j', description='default'))
    other_ws = engine.scoped('local', 'ws-2')
    other_project = engine.scoped('p-2', 'default', user='bob')
    assert other_ws.list_jobs()['total'] == 0
    assert other_project.list_jobs()['total'] == 0
    other_ws.create_job(job_spec('j', description='ws-2'))
    other_project.create_job(job_spec('j', description='p-2'))
    assert [e.show_job('j')['description'] for e in (engine, other_ws, other_project)] == [
        'default', 'ws-2', 'p-2']
    assert other_project.show_job('j')['lastUpdateUser'] == 'bob'
    other_ws.start_job('j')
    assert engine.job_status('j') == 'STOPPED'
    other_ws.delete_job('j')
    assert engine.show_job('j')['description'] == 'default'
    assert [v['version'] for v in engine.versions('job', 'j')] == [1]


def test_two_engines_on_one_file_see_each_other(tmp_path, fake_clock):
    first = Engine(tmp_path / 'shared.db', clock=fake_clock)
    second = Engine(tmp_path / 'shared.db', clock=fake_clock)
    first.create_job(job_spec('j'))
    assert second.show_job('j')['name'] == 'j'
    with pytest.raises(EngineError):
        second.create_job(job_spec('j'))
    first.close()
    second.close()


def test_concurrent_writers_from_threads(tmp_path, fake_clock):
    engines = [Engine(tmp_path / 'shared.db', clock=fake_clock) for _ in range(2)]
    errors: list[BaseException] = []

    def work(engine: Engine, prefix: str) -> None:
        try:
            for i in range(20):
                engine.create_job(job_spec(f'{prefix}{i}'))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(engines[i % 2], f't{i}_')) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert engines[0].list_jobs(limit=100)['total'] == 80
    ids = [engines[0].show_job(f't{t}_{i}')['id'] for t in range(4) for i in range(20)]
    assert len(set(ids)) == 80


def test_a_link_in_use_cannot_be_renamed_but_a_free_one_can(engine):
    cluster = _with_cluster(engine)
    engine.create_link(cluster, link_spec('src'))
    engine.create_link(cluster, link_spec('spare'))
    engine.create_cdm_job(cluster, cdm_job_spec('copy', source='src', target='src'))
    with pytest.raises(EngineError) as caught:
        engine.update_link(cluster, 'src', link_spec('renamed'))
    assert caught.value.code == 'Cdm.0321'
    engine.update_link(cluster, 'spare', link_spec('renamed'))
    assert [link['name'] for link in engine.list_links(cluster)['links']] == ['renamed', 'src']


def test_a_thread_per_call_does_not_pile_up_connections(engine):
    engine.create_job(job_spec('j'))
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(engine.job_status('j'))) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ['STOPPED'] * 50
    assert len(engine._store._idle) <= engine._store.MAX_IDLE


def test_two_processes_write_one_file(tmp_path):
    path = tmp_path / 'shared.db'
    code = (
        'import sys\n'
        'from jobsync.workspace.service import Engine\n'
        'e = Engine(sys.argv[1])\n'
        'for i in range(30):\n'
        '    e.create_job({"name": f"{sys.argv[2]}{i}", "processType": "BATCH", "nodes": [{"name": "n"}]})\n'
    )
    procs = [subprocess.Popen([sys.executable, '-c', code, str(path), prefix]) for prefix in ('a', 'b')]
    assert [proc.wait(timeout=120) for proc in procs] == [0, 0]
    assert Engine(path).list_jobs(limit=100)['total'] == 60


# --- listing pages ----------------------------------------------------------------------------------


def test_list_pages_filter_and_order_like_the_whole_listing(engine):
    names = ['b', 'a', 'Ab', 'ab', '作业', 'zz', 'a_b', 'é']
    for name in names:
        engine.create_job(job_spec(name, process_type='REAL_TIME' if name.startswith('a') else 'BATCH'))
    batch = [n for n in sorted(names) if not n.startswith('a')]
    assert [j['name'] for j in engine.list_jobs(limit=100)['jobs']] == batch
    assert engine.list_jobs(limit=2, offset=1) == {'total': len(batch),
                                                   'jobs': engine.list_jobs(limit=100)['jobs'][1:3]}
    assert [j['name'] for j in engine.list_jobs(job_type='REAL_TIME', job_name='b', limit=100)['jobs']] == ['a_b', 'ab']
    assert engine.list_jobs(job_name='A', limit=100)['total'] == 1  # case-sensitive, as `in` is: 'Ab' only


def test_cdm_job_type_null_is_no_type(engine):
    cluster = engine.create_cluster('c')
    engine.create_link(cluster, link_spec('l'))
    engine.create_cdm_job(cluster, cdm_job_spec('typed', source='l', target='l'))
    untyped = cdm_job_spec('absent', source='l', target='l')
    del untyped['job_type']
    engine.create_cdm_job(cluster, untyped)
    engine.create_cdm_job(cluster, {**cdm_job_spec('nulled', source='l', target='l'), 'job_type': None})
    assert [j['name'] for j in engine.list_cdm_jobs(cluster, page_size=100)['jobs']] == ['absent', 'typed']
    assert engine.list_cdm_jobs(cluster, job_type='BATCH_JOB')['total'] == 0
