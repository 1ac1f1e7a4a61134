"""The `dataarts` backend beyond the contract: configuration, error mapping, retries and faults,
object-by-object writes, paging checks, scopes, reading cost. Against the emulator on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataarts_fixtures import EMULATOR_AK, EMULATOR_TOKEN
from workspace_specs import cdm_job_spec, connection_spec, job_spec, link_spec, read_all, resource_spec, script_spec

from jobsync.config import Target
from jobsync.errors import ImportRefused, UsageError, WorkspaceError
from jobsync.model import ObjectKey
from jobsync.workspace.bodies import decode_cdm_values
from jobsync.workspace.client import DataArtsClient
from jobsync.workspace.connect import DataArtsConfig, open_workspace
from jobsync.workspace.emulator import Faults
from jobsync.workspace.http import AkSk, HttpSettings, HttpTransport, Token, credentials_from_env, default_endpoints
from jobsync.workspace.routes import SHOW_SCRIPT
from jobsync.workspace.transport import parse_error

PID = '0123456789abcdef0123456789abcdef'


# --- configuration --------------------------------------------------------------------------------


def _target(**dataarts) -> Target:
    return Target('prod', workspace='dataarts', settings={'workspace': 'dataarts', 'dataarts': dataarts})


def test_endpoints_come_from_the_region_with_per_service_overrides():
    config = DataArtsConfig.from_target(_target(region='cn-north-4', project_id=PID,
                                                endpoints={'cdm': 'https://cdm.internal:8443'},
                                                untrusted_endpoints_allowed=['https://cdm.internal:8443']))
    assert config.endpoints == {'factory': 'https://dayu-dlf.cn-north-4.myhuaweicloud.com',
                                'management': 'https://dayu.cn-north-4.myhuaweicloud.com',
                                'cdm': 'https://cdm.internal:8443'}
    # The dgc SDK serves the v1 Factory routes from the `dayu` host in cn-east-4 (reference §1).
    assert default_endpoints('cn-east-4')['factory'] == 'https://dayu.cn-east-4.myhuaweicloud.com'


@pytest.mark.parametrize(('dataarts', 'message'), [
    ({'region': 'cn-north-4'}, 'project_id is not set'),
    ({'project_id': PID}, 'region is not set'),
    ({'project_id': PID, 'endpoints': {'factory': 'http://x'}}, 'region is not set'),
    ({'project_id': PID, 'region': 'cn-north-4', 'endpoints': {'dlf': 'http://x'}}, 'unknown endpoint(s) dlf'),
], ids=['no-project', 'no-region', 'partial-endpoints', 'unknown-service'])
def test_unusable_configuration_is_a_usage_error(dataarts, message):
    with pytest.raises(UsageError, match=message.replace('(', r'\(').replace(')', r'\)')):
        DataArtsConfig.from_target(_target(**dataarts))


def test_a_dataarts_target_needs_its_section():
    with pytest.raises(UsageError, match='needs a `dataarts:` section'):
        DataArtsConfig.from_target(Target('prod', workspace='dataarts', settings={'workspace': 'dataarts'}))


def test_credentials_come_from_the_environment_only():
    creds = credentials_from_env({'HUAWEICLOUD_SDK_AK': 'ak', 'HUAWEICLOUD_SDK_SK': 'very-secret'}, 'target x')
    assert creds == AkSk('ak', 'very-secret')
    assert 'very-secret' not in repr(creds)
    assert credentials_from_env({'JOBSYNC_DATAARTS_TOKEN': 'tok'}, 'x') == Token('tok')
    with pytest.raises(UsageError, match='HUAWEICLOUD_SDK_SK is not set'):
        credentials_from_env({'HUAWEICLOUD_SDK_AK': 'ak'}, 'x')
    with pytest.raises(UsageError) as caught:
        credentials_from_env({}, "target 'prod'")
    assert 'no DataArts credentials' in caught.value.message
    assert 'HUAWEICLOUD_SDK_AK' in caught.value.hint and 'never go in jobsync.yaml' in caught.value.hint


def test_open_workspace_dispatches_dataarts(running_emulator, tmp_path: Path):
    url = running_emulator.url
    target = _target(project_id=PID, endpoints={'factory': url, 'management': url, 'cdm': url},
                     rate_limits={'factory': 0, 'management': 0, 'cdm': 0})
    ws = open_workspace(target, tmp_path, {'JOBSYNC_DATAARTS_TOKEN': EMULATOR_TOKEN})
    try:
        assert isinstance(ws, DataArtsClient)
        assert ws.url == f'dataarts:{url}/{PID}/default'
        ws.list_objects()
    finally:
        ws.close()


def test_dataarts_section_is_checked_by_the_schema():
    from jobsync import schema

    good = {'targets': {'prod': {'workspace': 'dataarts', 'dataarts': {
        'region': 'cn-north-4', 'project_id': PID, 'workspace_id': 'ws1', 'cdm_clusters': {'cdm-prod': 'uuid'},
        'rate_limits': {'cdm': 1}, 'concurrency': 8}}}}
    assert schema.validate('config', good) == []
    bad = {'targets': {'prod': {'workspace': 'dataarts', 'dataarts': {
        'project_id': PID, 'endpoints': {'factory': 'dayu-dlf'}, 'password': 'x'}}}}
    pointers = sorted(p.pointer for p in schema.validate('config', bad))
    assert '/targets/prod/dataarts/password' in pointers
    assert '/targets/prod/dataarts/endpoints/factory' in pointers


# --- error mapping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(('status', 'body', 'code', 'message', 'not_found'), [
    (400, b'{"error_code":"DLF.0100","error_msg":"The job does not exists."}', 'DLF.0100',
     'The job does not exists.', True),
    (400, b'{"errors":[{"error_code":"DAYU.1005","error_msg":"The data connection does not exist."}]}',
     'DAYU.1005', 'The data connection does not exist.', True),
    (400, b'{"code":"Cdm.0315","errCode":"Cdm.0315","message":"Link name exists","externalMessage":"x"}',
     'Cdm.0315', 'x', False),
    (500, b'{"errCode":"Cdm.0100","externalMessage":"Job[jdbc2hive] doesn\'t exist."}', 'Cdm.0100',
     "Job[jdbc2hive] doesn't exist.", True),
    (500, b'{"validation-result":[{"linkConfig":[{"message":"Can\'t connect","status":"ERROR"}]}]}',
     'Cdm.validation', "Can't connect", False),
    (404, b'{"error_code":"APIGW.0101","error_msg":"The API does not exist","request_id":"r-1"}', 'APIGW.0101',
     'The API does not exist', False),
    (404, b'', '', 'HTTP 404', True),
    (502, b'<html>Bad Gateway</html>', '', '<html>Bad Gateway</html>', False),
    (400, b'{"error":{"errorCode":"X.1","errorMsg":"nested"}}', 'X.1', 'nested', False),
], ids=['dlf-flat', 'errors-list', 'cdm', 'cdm-500-not-found', 'cdm-validation', 'gateway', 'plain-404', 'html',
        'nested'])
def test_every_error_shape_maps_to_one_error(status, body, code, message, not_found):
    err = parse_error(status, body, {'x-request-id': 'req-9'})
    assert (err.status, err.code, err.message, err.not_found) == (status, code, message, not_found)
    assert err.request_id == 'req-9'
    assert isinstance(err, WorkspaceError)


def test_gateway_errors_carry_hints():
    assert 'endpoint' in parse_error(404, b'{"error_code":"APIGW.0101","error_msg":"x"}', {}).hint
    assert 'clock' in parse_error(401, b'{"error_code":"APIGW.0301","error_msg":"x"}', {}).hint
    assert parse_error(400, b'{"error_code":"X","error_msg":"x","request_id":"from-body"}', {}).request_id == \
        'from-body'


def test_bad_credentials_are_a_401_with_a_hint(running_emulator):
    ws = running_emulator.workspace()
    ws.http.settings = HttpSettings(**{**ws.http.settings.__dict__, 'credentials': AkSk(EMULATOR_AK, 'wrong')})
    with pytest.raises(WorkspaceError) as caught:
        ws.list_objects()
    err = caught.value
    assert (err.status, err.code) == (401, 'APIGW.0301')
    assert 'HUAWEICLOUD_SDK_AK' in err.hint and len(err.request_id) == 32
    assert running_emulator.emulator.stats['unauthorized'] >= 1
    ws.close()


def test_token_auth(running_emulator):
    ws = running_emulator.workspace()
    ws.http.settings = HttpSettings(**{**ws.http.settings.__dict__, 'credentials': Token(EMULATOR_TOKEN)})
    ws.import_objects([(ObjectKey('script', 's'), script_spec('s'))])
    assert list(ws.list_objects()) == [ObjectKey('script', 's')]
    ws.http.settings = HttpSettings(**{**ws.http.settings.__dict__, 'credentials': Token('forged')})
    with pytest.raises(WorkspaceError) as caught:
        ws.list_objects()
    assert caught.value.status == 401
    ws.close()


def test_a_wrong_endpoint_says_so(running_emulator):
    ws = running_emulator.workspace()
    bad = {**ws.http.settings.endpoints, 'factory': running_emulator.url + '/not-here'}
    ws.http.settings = HttpSettings(**{**ws.http.settings.__dict__, 'endpoints': bad})
    with pytest.raises(WorkspaceError) as caught:
        ws.list_objects()
    assert (caught.value.status, caught.value.code) == (404, 'APIGW.0101')
    assert 'endpoint' in caught.value.hint
    ws.close()


def test_nothing_listening_on_this_machine_fails_at_once_naming_the_endpoint():
    settings = HttpSettings(project_id=PID, endpoints={s: 'http://127.0.0.1:9' for s in ('factory', 'management',
                                                                                        'cdm')},
                            credentials=AkSk('a', 'b'), rate_limits={}, max_attempts=3, backoff_base=0.001)
    ws = DataArtsClient(HttpTransport(settings), url='dataarts:test')
    with pytest.raises(WorkspaceError) as caught:
        ws.list_objects()
    # a refused loopback port will not start listening within the retries (issue 15): no retry
    assert 'could not connect' in caught.value.message and 'http://127.0.0.1:9' in caught.value.message
    assert 'gave up after' not in caught.value.message
    assert 'is `jobsync emulator` running (on port 9)?' in caught.value.hint
    assert ws.calls['GET /v1/{pid}/jobs'] == 1
    ws.close()


# --- retries and faults ------------------------------------------------------------------------------


def test_throttling_is_retried_after_retry_after(running_emulator, monkeypatch):
    ws = running_emulator.workspace()
    waits: list[float] = []
    now = [0.0]  # the emulator's throttle clock: it moves only when the client "sleeps"

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    ws.http._sleep = sleep
    ws.import_objects([(ObjectKey('script', f's{i}'), script_spec(f's{i}')) for i in range(3)])
    monkeypatch.setattr(running_emulator.emulator, 'throttle_clock', lambda: now[0])
    running_emulator.emulator.faults = Faults(throttle_rps=10, throttle_burst=1)
    for _ in range(3):  # bare keys list again each time: calls faster than the bucket refills
        live = ws.read([ObjectKey('script', f's{i}') for i in range(3)])
        assert len(live) == 3
    assert running_emulator.emulator.stats['throttled'] >= 1
    assert any(w >= 1 for w in waits)  # the server said Retry-After: 1, and it was honoured
    assert sum(ws.http.retries.values()) >= 1
    ws.close()


def test_5xx_and_drops_on_reads_are_retried(running_emulator):
    ws = running_emulator.workspace(max_attempts=12)
    ws.import_objects([(ObjectKey('script', 's'), script_spec('s')), (ObjectKey('job', 'j'), job_spec('j'))])
    running_emulator.emulator.faults = Faults(fault_rate=0.15, drop_rate=0.15, seed=7)
    for _ in range(5):
        assert sorted(read_all(ws)) == [ObjectKey('script', 's'), ObjectKey('job', 'j')]
    stats = running_emulator.emulator.stats
    assert stats['5xx-before'] + stats['5xx-after'] >= 1 and stats['drop-before'] + stats['drop-after'] >= 1
    ws.close()


@pytest.mark.parametrize('fault', ['fault_rate', 'drop_rate'])
def test_a_create_whose_answer_was_lost_is_not_repeated_blindly(running_emulator, fault):
    """The create went through but its answer was lost: the client must find the object, not
    create it again (which the service would refuse, or for some kinds duplicate); found holding
    exactly the body sent (by name and content), it is not written again either."""
    ws = running_emulator.workspace()
    ws.list_objects()  # the workspace is known to be empty
    rates = {'fault_rate': 0.9 if fault == 'fault_rate' else 0.0, 'drop_rate': 0.9 if fault == 'drop_rate' else 0.0}
    running_emulator.emulator.faults = Faults(fault_rate=rates['fault_rate'], drop_rate=rates['drop_rate'],
                                              phase='after', max_faults=1, seed=1)
    key = ObjectKey('resource', 'etl_jar')
    ws.import_objects([(key, resource_spec('etl_jar'))])
    running_emulator.emulator.faults = Faults()
    assert ws.calls['POST /v1/{pid}/resources'] == 1  # one create, its answer lost
    assert ws.calls['GET /v1/{pid}/resources/{resource_id}'] == 1  # read back by name and content
    assert ws.calls['PUT /v1/{pid}/resources/{resource_id}'] == 0  # it holds the body: nothing to repeat
    listing = running_emulator.emulator.engine.scoped(ws.http.settings.project_id, 'ws-test').list_resources()
    assert listing['total'] == 1
    ws.close()


def test_a_start_whose_answer_was_lost_is_not_repeated_on_a_running_job(running_emulator):
    ws = running_emulator.workspace()
    key = ObjectKey('job', 'j')
    ws.import_objects([(key, job_spec('j'))])
    running_emulator.emulator.faults = Faults(fault_rate=0.9, phase='after', max_faults=1, seed=1)
    ws.start_job(key)  # no DLF.3051 "is running" from a blind second start
    assert ws.job_status(key) == 'SCHEDULING'
    ws.close()


def test_a_run_once_whose_answer_was_lost_is_not_repeated(running_emulator):
    """Every run-immediate makes an instance: a lost answer is reported, never sent again."""
    ws = running_emulator.workspace()
    key = ObjectKey('job', 'j')
    ws.import_objects([(key, job_spec('j'))])
    running_emulator.emulator.faults = Faults(fault_rate=0.9, phase='after', max_faults=1, seed=1)
    with pytest.raises(WorkspaceError) as caught:
        ws.run_once(key)
    running_emulator.emulator.faults = Faults()
    assert 'may have started' in caught.value.hint
    assert ws.calls['POST /v1/{pid}/jobs/{job_name}/run-immediate'] == 1
    # The next run is the job's second instance: the lost call made exactly one (ids are sequential).
    second = int(ws.run_once(key))
    engine = running_emulator.emulator.engine.scoped(ws.http.settings.project_id, 'ws-test')
    assert engine.get_instance('j', second - 1)['status'] == 'success'
    with pytest.raises(WorkspaceError):
        engine.get_instance('j', second - 2)
    ws.close()


def test_retries_are_bounded(running_emulator):
    ws = running_emulator.workspace(max_attempts=3)
    running_emulator.emulator.faults = Faults(fault_rate=0.9, phase='before', seed=1)
    with pytest.raises(WorkspaceError) as caught:
        for _ in range(20):  # with 90% failures, some call gives up quickly
            ws.list_objects()
    assert 'gave up after 3 attempts' in caught.value.message
    assert caught.value.status == 503
    ws.close()


def test_every_objects_is_applied_once_under_faults(running_emulator):
    ws = running_emulator.workspace(max_attempts=12)
    items = [(ObjectKey('connection', 'c'), connection_spec('c')),
             (ObjectKey('cdm-link', 'l', 'cdm-prod'), link_spec('l')),
             (ObjectKey('resource', 'r'), resource_spec('r'))]
    items += [(ObjectKey('script', f's{i}'), script_spec(f's{i}')) for i in range(20)]
    items += [(ObjectKey('cdm-job', 'cj', 'cdm-prod'), cdm_job_spec('cj', source='l', target='l'))]
    items += [(ObjectKey('job', f'j{i}'), job_spec(f'j{i}', scripts=(f's{i}',))) for i in range(20)]
    running_emulator.emulator.faults = Faults(fault_rate=0.15, drop_rate=0.1, seed=3)
    ws.import_objects(items)
    running_emulator.emulator.faults = Faults()
    live = read_all(ws)
    assert sorted(live) == sorted(k for k, _ in items)
    engine = running_emulator.emulator.engine.scoped(ws.http.settings.project_id, 'ws-test')
    assert [len(engine.versions('job', f'j{i}')) >= 1 for i in range(20)] == [True] * 20
    assert engine.list_resources()['total'] == 1 and engine.list_connections()['total_size'] == 1
    ws.close()


# --- writes ------------------------------------------------------------------------------------------


def test_writes_are_object_by_object_and_say_what_went_through(dataarts_workspace):
    bad = {'name': 'broken', 'processType': 'BATCH', 'nodes': []}
    with pytest.raises(ImportRefused) as caught:
        dataarts_workspace.import_objects([(ObjectKey('script', 'ok'), script_spec('ok')),
                                           (ObjectKey('job', 'broken'), bad),
                                           (ObjectKey('job', 'fine'), job_spec('fine'))])
    assert caught.value.written == frozenset({'script/ok', 'job/fine'})
    assert set(caught.value.reasons) == {'job/broken'}
    assert 'not all or nothing' in caught.value.message
    assert sorted(dataarts_workspace.list_objects()) == [ObjectKey('script', 'ok'), ObjectKey('job', 'fine')]


def test_after_a_fatal_answer_the_rest_is_not_tried(running_emulator):
    ws = running_emulator.workspace()
    ws.http.settings = HttpSettings(**{**ws.http.settings.__dict__, 'credentials': AkSk(EMULATOR_AK, 'wrong')})
    with pytest.raises(ImportRefused) as caught:
        ws.import_objects([(ObjectKey('script', f's{i}'), script_spec(f's{i}')) for i in range(5)])
    assert caught.value.written == frozenset()
    assert all('not attempted' in r for k, r in caught.value.reasons.items() if k != 'script/s0')
    assert sum(ws.calls.values()) == 1
    ws.close()


def test_full_bodies_say_explicitly_what_is_empty(dataarts_workspace, running_emulator):
    """The service keeps what an update leaves out (reference §4.4): a job whose definition has no
    dependencies, parameters or upstream nodes is sent with explicit empty lists."""
    key = ObjectKey('job', 'j')
    dataarts_workspace.import_objects([(ObjectKey('job', 'up'), job_spec('up')),
                                       (key, job_spec('j', params=[{'name': 'p', 'value': '1'}], schedule={
                                           'type': 'CRON', 'cron': {'expression': '0 0 2 * * ?',
                                                                    'dependJobs': {'jobs': ['up']}}}))])
    bare = job_spec('j', schedule={'type': 'CRON', 'cron': {'expression': '0 0 2 * * ?'}})
    del bare['nodes'][0]['preNodeName']
    assert 'params' not in bare and 'dependJobs' not in bare['schedule']['cron']  # git says nothing of them
    dataarts_workspace.import_objects([(key, bare)])
    engine = running_emulator.emulator.engine.scoped(dataarts_workspace.http.settings.project_id, 'ws-test')
    sent = engine.versions('job', 'j')[-1]['spec']  # the body exactly as the service received it
    assert sent['params'] == [] and sent['nodes'][0]['preNodeName'] == []
    assert sent['schedule']['cron']['dependJobs'] == {'jobs': []}
    dataarts_workspace.import_objects([(ObjectKey('resource', 'r'), resource_spec('r'))])
    assert engine.show_resource(engine.resource_id('r'))['dependFiles'] == []


def test_an_object_gone_since_listing_is_created(dataarts_workspace, running_emulator):
    key = ObjectKey('script', 's')
    dataarts_workspace.import_objects([(key, script_spec('s'))])
    dataarts_workspace.list_objects()
    engine = running_emulator.emulator.engine.scoped(dataarts_workspace.http.settings.project_id, 'ws-test')
    engine.delete_script('s')  # someone deletes it behind our back
    dataarts_workspace.import_objects([(key, script_spec('s', content='SELECT 9;'))])
    assert engine.show_script('s')['content'] == 'SELECT 9;'


def test_a_cdm_cluster_that_does_not_exist_is_named(dataarts_workspace):
    with pytest.raises(ImportRefused) as caught:
        dataarts_workspace.import_objects([(ObjectKey('cdm-link', 'l', 'no-such-cluster'), link_spec('l'))])
    assert 'no-such-cluster' in caught.value.reasons['cdm-link/no-such-cluster/l']
    assert 'cdm_clusters' in caught.value.reasons['cdm-link/no-such-cluster/l']


def test_configured_cluster_ids_skip_the_cluster_listing(running_emulator):
    probe = running_emulator.workspace()
    clusters = probe.clusters()
    project = probe.http.settings.project_id
    probe.close()
    ws = running_emulator.workspace(project)
    ws._configured_clusters = {'cdm-prod': clusters['cdm-prod']}
    ws.import_objects([(ObjectKey('cdm-link', 'l', 'cdm-prod'), link_spec('l'))])
    ws.calls.clear()
    assert list(ws.list_objects()) == [ObjectKey('cdm-link', 'l', 'cdm-prod')]
    assert 'GET /v1.1/{pid}/clusters' not in ws.calls
    ws.close()


# --- reading -----------------------------------------------------------------------------------------


def test_reading_costs_list_pages_plus_one_export_per_100_jobs(dataarts_workspace):
    items = [(ObjectKey('script', f's{i:03}'), script_spec(f's{i:03}')) for i in range(230)]
    items += [(ObjectKey('job', f'j{i:03}'), job_spec(f'j{i:03}', scripts=(f's{i:03}',))) for i in range(230)]
    dataarts_workspace.import_objects(items)
    dataarts_workspace.calls.clear()
    live = read_all(dataarts_workspace)
    assert len(live) == 460
    calls = dict(dataarts_workspace.calls)
    assert calls.pop('POST /v1/{pid}/jobs/batch-export') == 3
    assert calls.pop('GET /v1/{pid}/jobs') == 3 + 1  # 230 batch jobs in pages of 100, and the real-time page
    assert calls.pop('GET /v1/{pid}/scripts') == 3
    assert 'GET /v1/{pid}/scripts/{script_name}' not in calls  # the exports brought every script
    # Resources, connections, clusters; per cluster (cdm-prod, cdm-dev) its links and its jobs of each jobType.
    assert calls == {'GET /v1/{pid}/resources': 1, 'GET /v1/{pid}/data-connections': 1, 'GET /v1.1/{pid}/clusters': 1,
                     'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/link/all': 2,
                     'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/job/all': 6}


def test_scripts_no_job_uses_come_from_the_list_entries(dataarts_workspace):
    # a v1 ScriptInfo list entry carries the content (issue 11): no show per script
    dataarts_workspace.import_objects([(ObjectKey('script', 'lonely'), script_spec('lonely', content='SELECT 7;'))])
    dataarts_workspace.calls.clear()
    live = read_all(dataarts_workspace)
    assert live[ObjectKey('script', 'lonely')].spec['content'] == 'SELECT 7;'
    assert 'GET /v1/{pid}/scripts/{script_name}' not in dataarts_workspace.calls


def test_a_job_deleted_between_list_and_export_is_left_out(dataarts_workspace, running_emulator):
    dataarts_workspace.import_objects([(ObjectKey('job', f'j{i}'), job_spec(f'j{i}')) for i in range(8)])
    listed = dataarts_workspace.list_objects()
    engine = running_emulator.emulator.engine.scoped(dataarts_workspace.http.settings.project_id, 'ws-test')
    engine.delete_job('j5')
    live = dataarts_workspace.read(listed)
    assert sorted(k.name for k in live) == ['j0', 'j1', 'j2', 'j3', 'j4', 'j6', 'j7']


def test_script_errors_in_the_errors_list_shape_are_understood(dataarts_workspace, running_emulator):
    running_emulator.emulator.script_errors = 'list'
    with pytest.raises(WorkspaceError) as caught:
        dataarts_workspace.http.call(SHOW_SCRIPT, {'script_name': 'ghost'})
    assert (caught.value.code, caught.value.not_found) == ('DLF.6201', True)
    assert dataarts_workspace.read([ObjectKey('script', 'ghost')]) == {}


def test_page_number_paging_is_detected(dataarts_workspace, running_emulator):
    """The docs call `offset` a page number; if the service ever pages that way, the count check
    says so instead of silently missing objects (reference §13.1)."""
    dataarts_workspace.import_objects([(ObjectKey('script', f's{i:03}'), script_spec(f's{i:03}'))
                                       for i in range(250)])
    running_emulator.emulator.paging = 'pages'
    with pytest.raises(WorkspaceError) as caught:
        dataarts_workspace.list_objects()
    assert 'reports a total of 250' in caught.value.message
    assert 'page number' in caught.value.hint


def test_workspaces_are_kept_apart_but_cdm_is_shared(running_emulator):
    a = running_emulator.workspace(workspace_id='ws-a')
    b = running_emulator.workspace(a.http.settings.project_id, workspace_id='ws-b')
    a.import_objects([(ObjectKey('job', 'only_in_a'), job_spec('only_in_a')),
                      (ObjectKey('cdm-link', 'l', 'cdm-prod'), link_spec('l'))])
    # CDM has only the default workspace (reference §2.3): both see the link, only a the job.
    assert list(b.list_objects()) == [ObjectKey('cdm-link', 'l', 'cdm-prod')]
    assert ObjectKey('job', 'only_in_a') in a.list_objects()
    a.close()
    b.close()


def test_cdm_values_are_url_decoded():
    spec = {'link-config-values': {'configs': [{'name': 'linkConfig', 'inputs': [
        {'name': 'linkConfig.host', 'value': 'a%3A1%2Fb+c'}, {'name': 'linkConfig.port', 'value': 22},
        {'name': 'linkConfig.x', 'value': {'k': 'v'}}]}]}, 'name': 'l%20x'}
    decoded = decode_cdm_values(spec)
    inputs = decoded['link-config-values']['configs'][0]['inputs']
    assert [i['value'] for i in inputs] == ['a:1/b+c', 22, {'k': 'v'}]  # `+` stays (PathUnescape)
    assert decoded['name'] == 'l%20x'  # only input values are encoded


def test_a_large_state_is_kept_in_parts_and_old_parts_are_removed(dataarts_workspace: DataArtsClient) -> None:
    from jobsync.errors import StateError
    from jobsync.state import ObjectState, State
    from jobsync.workspace import records

    def state(serial: int, n: int) -> State:
        return State('big', serial, {ObjectKey('job', f'job_{i:05d}_' + 'x' * 60): ObjectState(
            i, f'sha256:{i:064x}', f'sha256:{i:064x}', 'a' * 40) for i in range(n)}, git_rev='a' * 40)

    store = dataarts_workspace.records
    assert isinstance(store, records.ScriptRecordStore)
    first = state(1, 20_000)
    dataarts_workspace.write_state(first)
    manifest = records._manifest(store._read('jobsync_state_big') or '')
    assert manifest is not None and manifest['parts'] >= 2
    parts = records._part_names('big', manifest)
    assert all(len((store._read(name) or '').encode()) <= records.MAX_SCRIPT_CONTENT for name in parts)
    assert dataarts_workspace.read_state('big') == first
    dataarts_workspace.write_state(state(2, 20_001))  # new parts, then the manifest, then the old parts go
    assert all(store._read(name) is None for name in parts)
    assert dataarts_workspace.read_state('big') == state(2, 20_001)
    # A part edited by hand is caught, not half-read.
    new_parts = records._part_names('big', records._manifest(store._read('jobsync_state_big') or '') or {})
    store._update(new_parts[0], '{}', 'state part')
    with pytest.raises(StateError, match='does not match its manifest'):
        dataarts_workspace.read_state('big')
