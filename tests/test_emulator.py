"""The emulator as a client meets it: raw HTTP on 127.0.0.1, status codes, error bodies, request
ids, the gateway's rules, exports and imports, CDM encoding, injected faults; and jobsync's
commands (`jobsync emulator`, `plan`, `apply`) against it."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import EXAMPLE_SECRETS, run_jobsync
from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK, EMULATOR_TOKEN
from workspace_specs import cdm_job_spec, job_spec, link_spec, script_spec

from jobsync.workspace import signer
from jobsync.workspace.emulator import Faults, match_route
from jobsync.workspace.emulator.routes import HANDLERS
from jobsync.workspace.routes import ROUTES


class Client:
    """Signed raw HTTP calls to the emulator, on one project."""

    def __init__(self, url: str, project: str | None = None, workspace: str | None = 'ws1') -> None:
        self.url = url
        self.project = project or uuid.uuid4().hex
        self.workspace = workspace
        self.http = httpx.Client(timeout=10)

    def __call__(self, method: str, path: str, body=None, *, query=(), headers=None, raw: bytes | None = None,
                 now: datetime | None = None, sk: str = EMULATOR_SK) -> httpx.Response:
        path = path.replace('{pid}', self.project)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b'')
        base = {'Content-Type': 'application/json'}
        if self.workspace:
            base['workspace'] = self.workspace
        host = self.url.removeprefix('http://')
        signed = signer.sign(EMULATOR_AK, sk, method=method, host=host, path=path, query=list(query),
                             headers={**base, **(headers or {})}, body=data, now=now)
        url = f'{self.url}{path}' + (f'?{signed.query}' if signed.query else '')
        return self.http.request(method, url, headers=signed.headers, content=data)


@pytest.fixture
def client(running_emulator):
    c = Client(running_emulator.url)
    yield c
    c.http.close()


# --- gateway ------------------------------------------------------------------------------------


def test_unknown_routes_are_the_gateways_404(client):
    answer = client('GET', '/v1/{pid}/no-such-thing')
    assert answer.status_code == 404
    body = answer.json()
    assert body['error_code'] == 'APIGW.0101'
    assert body['request_id'] == answer.headers['X-Request-Id']
    assert client('PATCH', '/v1/{pid}/jobs').status_code == 404  # a method the route does not have


def test_every_answer_carries_a_request_id(client):
    ids = {client('GET', '/v1/{pid}/jobs').headers['X-Request-Id'] for _ in range(3)}
    assert len(ids) == 3 and all(re.fullmatch('[0-9a-f]{32}', i) for i in ids)
    assert 'X-Request-Id' in client('POST', '/v1/{pid}/scripts', script_spec('s')).headers  # 204 too


def test_unsigned_forged_and_stale_requests_are_401(client, running_emulator):
    plain = httpx.get(f'{client.url}/v1/{client.project}/jobs')
    assert (plain.status_code, plain.json()['error_code']) == (401, 'APIGW.0301')
    assert client('GET', '/v1/{pid}/jobs', sk='wrong-secret').status_code == 401
    stale = client('GET', '/v1/{pid}/jobs', now=datetime.now(timezone.utc) - timedelta(minutes=16))
    assert stale.status_code == 401 and 'expired' in stale.json()['error_msg']
    token = httpx.get(f'{client.url}/v1/{client.project}/jobs', headers={'X-Auth-Token': EMULATOR_TOKEN})
    assert token.status_code == 200
    assert httpx.get(f'{client.url}/v1/x/jobs', headers={'X-Auth-Token': 'forged'}).status_code == 401


def test_a_body_over_12_mb_is_413(client):
    answer = client('POST', '/v1/{pid}/scripts', raw=b'x' * (12 * 1024 * 1024 + 1))
    assert (answer.status_code, answer.json()['error_code']) == (413, 'APIGW.0201')


# --- the service's answers ------------------------------------------------------------------------


def test_status_codes_and_bodies_follow_the_reference(client):
    assert client('POST', '/v1/{pid}/scripts', script_spec('s')).status_code == 204
    assert client('POST', '/v1/{pid}/jobs', job_spec('j', scripts=('s',))).status_code == 204
    assert client('PUT', '/v1/{pid}/jobs/j', job_spec('j', scripts=('s',))).status_code == 204
    resource = client('POST', '/v1/{pid}/resources', {'name': 'r', 'type': 'jar', 'location': 'obs://b/r.jar'})
    assert resource.status_code == 200 and re.fullmatch('[0-9a-f-]{36}', resource.json()['resourceId'])
    conn = client('POST', '/v1/{pid}/data-connections', {'data_source_vos': [{'dw_name': 'c', 'dw_type': 'DLI'}]})
    assert conn.status_code == 200 and re.fullmatch('[0-9a-f]{32}', conn.json()['data_connection_id'])
    assert client('POST', '/v1/{pid}/jobs/j/start').status_code == 204
    assert client('GET', '/v1/{pid}/jobs', query=[('jobName', 'j')]).json()['jobs'][0]['status'] == 'SCHEDULING'
    run = client('POST', '/v1/{pid}/jobs/j/run-immediate')
    assert run.status_code == 200 and isinstance(run.json()['instanceId'], int)


@pytest.mark.parametrize(('method', 'path', 'body', 'status', 'shape'), [
    ('GET', '/v1/{pid}/jobs/ghost', None, 400, {'error_code': 'DLF.0100'}),
    ('GET', '/v1/{pid}/scripts/ghost', None, 400, {'error_code': 'DLF.6201'}),
    ('GET', '/v1/{pid}/jobs', None, 400, {'error_code': 'DLF.3051'}),  # with limit=0 below
    ('GET', '/v1/{pid}/data-connections/ghost', None, 400, {'errors': [{'error_code': 'DAYU.1005'}]}),
    ('GET', '/v1.1/{pid}/clusters/ghost/cdm/link/l', None, 400, {'errCode': 'Cdm.0001', 'code': 'Cdm.0001'}),
    ('POST', '/v1/{pid}/jobs', {'name': 'x', 'nodes': []}, 400, {'error_code': 'DLF.1006'}),
    ('POST', '/v1/{pid}/jobs', b'{not json', 400, {'error_code': 'DLF.3051'}),
], ids=['job', 'script', 'paging', 'connection', 'cdm', 'no-nodes', 'not-json'])
def test_error_bodies_have_each_familys_shape(client, method, path, body, status, shape):
    answer = client(method, path, None if isinstance(body, bytes) else body,
                    raw=body if isinstance(body, bytes) else None,
                    query=[('limit', 0)] if shape.get('error_code') == 'DLF.3051' and method == 'GET' else ())
    assert answer.status_code == status
    got = answer.json()
    for key, value in shape.items():
        if isinstance(value, list):
            assert got[key][0]['error_code'] == value[0]['error_code']
        else:
            assert got[key] == value


def test_script_errors_can_use_the_errors_list_shape(client, running_emulator):
    running_emulator.emulator.script_errors = 'list'
    assert client('GET', '/v1/{pid}/scripts/ghost').json() == {
        'errors': [{'error_code': 'DLF.6201', 'error_msg': 'The script does not exist: ghost.'}]}


def test_names_with_reserved_and_non_ascii_characters_address_one_object(client):
    name = '作业 a%2F.b'
    assert client('POST', '/v1/{pid}/jobs', job_spec(name)).status_code == 204
    from urllib.parse import quote
    answer = client('GET', f'/v1/{{pid}}/jobs/{quote(name, safe="")}')
    assert answer.status_code == 200 and answer.json()['name'] == name


def test_projects_and_workspaces_are_kept_apart(running_emulator):
    a, b = Client(running_emulator.url, workspace='wa'), Client(running_emulator.url, workspace='wb')
    c = Client(running_emulator.url, a.project, workspace=None)
    a('POST', '/v1/{pid}/jobs', job_spec('only_a'))
    assert [j['name'] for j in a('GET', '/v1/{pid}/jobs').json()['jobs']] == ['only_a']
    assert b('GET', '/v1/{pid}/jobs').json()['jobs'] == []
    assert c('GET', '/v1/{pid}/jobs').json()['jobs'] == []  # no header: the default workspace
    assert Client(running_emulator.url, workspace='wa')('GET', '/v1/{pid}/jobs').json()['jobs'] == []


# --- export and import -----------------------------------------------------------------------------


def _zip_names(data: bytes) -> list[str]:
    return sorted(zipfile.ZipFile(io.BytesIO(data)).namelist())


def test_exports_stream_the_documented_layouts(client):
    client('POST', '/v1/{pid}/scripts', script_spec('s'))
    client('POST', '/v1/{pid}/jobs', job_spec('j', scripts=('s',)))
    client('POST', '/v1/{pid}/jobs', job_spec('k'))
    single = client('POST', '/v1/{pid}/jobs/j/export', {})
    assert single.headers['content-type'] == 'application/octet-stream'
    assert 'DLF_j.zip' in single.headers['content-disposition']
    assert _zip_names(single.content) == ['jobs/j.job', 'scripts/s.script']
    batch = client('POST', '/v1/{pid}/jobs/batch-export', {'jobList': ['j', 'k'], 'exportDepend': True})
    assert _zip_names(batch.content) == ['jobs/j/j.job', 'jobs/j/s.script', 'jobs/k/k.job']
    too_many = client('POST', '/v1/{pid}/jobs/batch-export', {'jobList': [f'x{i}' for i in range(101)]})
    assert too_many.json()['error_code'] == 'DLF.3051'


def test_export_to_obs_then_import_from_it(client):
    client('POST', '/v1/{pid}/scripts', script_spec('s'))
    client('POST', '/v1/{pid}/jobs', job_spec('j', scripts=('s',)))
    folder = client('POST', '/v1/{pid}/jobs/batch-export', {'jobList': ['j'], 'obsPath': 'obs://bucket/exports'})
    assert folder.json()['obsPath'].startswith('obs://bucket/exports/jobs_exported/')
    other = Client(client.url)  # import into another project
    task_id = other('POST', '/v1/{pid}/jobs/import', {'path': folder.json()['obsPath'] + '/jobs.zip',
                                                       'sameNamePolicy': 'OVERWRITE'}).json()['taskId']
    task = other('GET', f'/v1/{{pid}}/system-tasks/{task_id}').json()
    assert task['status'] == 'SUCCESSFUL'
    assert [j['name'] for j in other('GET', '/v1/{pid}/jobs').json()['jobs']] == ['j']
    missing = other('POST', '/v1/{pid}/jobs/import', {'path': 'obs://bucket/nothing.zip'})
    assert missing.json() == {'error_code': 'DLF.0815', 'error_msg': 'Fail to read OBS file.'}
    assert other('GET', '/v1/{pid}/system-tasks/nope').json()['error_code'] == 'DLF.0810'


def test_import_refuses_a_running_same_named_job(client):
    client('POST', '/v1/{pid}/jobs', job_spec('j'))
    data = client('POST', '/v1/{pid}/jobs/batch-export', {'jobList': ['j']}).content
    assert client('PUT', '/_emulator/obs/bucket/j.zip', raw=data).status_code == 204
    client('POST', '/v1/{pid}/jobs/j/start')
    task_id = client('POST', '/v1/{pid}/jobs/import', {'path': 'obs://bucket/j.zip',
                                                        'sameNamePolicy': 'OVERWRITE'}).json()['taskId']
    task = client('GET', f'/v1/{{pid}}/system-tasks/{task_id}').json()
    assert task['status'] == 'FAILED'
    assert 'must be stopped' in task['subtasks'][0]['message']


# --- CDM ---------------------------------------------------------------------------------------------


def test_cdm_routes(client):
    clusters = client('GET', '/v1.1/{pid}/clusters').json()['clusters']
    cluster = next(c['id'] for c in clusters if c['name'] == 'cdm-prod')
    base = f'/v1.1/{{pid}}/clusters/{cluster}/cdm'
    link = link_spec('src', password='p@ss')
    link['link-config-values']['configs'][0]['inputs'][0]['value'] = 'jdbc:mysql://h:3306/db?x=1'
    created = client('POST', f'{base}/link', {'links': [link]})
    assert created.json() == {'name': 'src', 'validation-result': [{}]}
    dup = client('POST', f'{base}/link', {'links': [link]})
    assert (dup.status_code, dup.json()['errCode']) == (400, 'Cdm.0315')
    shown = client('GET', f'{base}/link/src').json()['links'][0]
    values = {i['name']: i['value'] for i in shown['link-config-values']['configs'][0]['inputs']}
    assert values['linkConfig.host'] == 'jdbc%3Amysql%3A%2F%2Fh%3A3306%2Fdb%3Fx%3D1'  # encoded on GET (§9.3)
    assert values['linkConfig.password'] == 'Add password here'
    assert [x['name'] for x in client('GET', f'{base}/link/all').json()['links']] == ['src']
    assert client('POST', f'{base}/job', {'jobs': [cdm_job_spec('cj', source='src', target='src')]}).json()[
        'name'] == 'cj'
    listing = client('GET', f'{base}/job/all', query=[('page_no', 1), ('page_size', 10)]).json()
    assert (listing['total'], [j['name'] for j in listing['jobs']]) == (1, ['cj'])
    assert client('GET', f'{base}/job/cj').json()['total'] == 0  # a single-job query says 0 (§9.1)
    started = client('PUT', f'{base}/job/cj/start').json()['submissions'][0]
    assert started['status'] == 'BOOTING' and started['job-name'] == 'cj'
    assert client('GET', f'{base}/job/cj/status').json()['submissions'][0]['status'] in ('RUNNING', 'SUCCEEDED')
    assert client('GET', f'{base}/submissions', query=[('jname', 'cj')]).json()['total'] == 1
    in_use = client('DELETE', f'{base}/link/src')
    assert in_use.json()['errCode'] == 'Cdm.0321'
    assert client('DELETE', f'{base}/job/cj').status_code == 200
    assert client('GET', f'{base}/job/cj').json()['errCode'] == 'Cdm.0100'


def test_every_project_has_the_configured_clusters_with_stable_ids(running_emulator):
    a = Client(running_emulator.url)
    first = a('GET', '/v1.1/{pid}/clusters').json()['clusters']
    assert sorted(c['name'] for c in first) == ['cdm-dev', 'cdm-prod']
    assert a('GET', '/v1.1/{pid}/clusters').json()['clusters'] == first


# --- faults -------------------------------------------------------------------------------------------


def test_throttling_answers_429_with_retry_after(client, running_emulator):
    running_emulator.emulator.faults = Faults(throttle_rps=1, throttle_burst=1)
    answers = [client('GET', '/v1/{pid}/jobs') for _ in range(3)]
    throttled = [a for a in answers if a.status_code == 429]
    assert throttled
    assert throttled[0].json()['error_code'] == 'APIG.0308'
    assert int(throttled[0].headers['Retry-After']) >= 1


def test_injected_5xx_and_dropped_connections(client, running_emulator):
    running_emulator.emulator.faults = Faults(fault_rate=0.9, phase='before', max_faults=1, seed=1)
    failed = client('GET', '/v1/{pid}/jobs')
    assert failed.status_code == 503 and failed.json()['error_code'] == 'APIGW.0201'
    assert client('GET', '/v1/{pid}/jobs').status_code == 200  # bounded: one fault, then none
    running_emulator.emulator.faults = Faults(drop_rate=0.9, phase='after', max_faults=1, seed=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client('POST', '/v1/{pid}/scripts', script_spec('dropped'))
    # The write happened before the connection dropped: what a client must not repeat blindly.
    assert client('GET', '/v1/{pid}/scripts/dropped').status_code == 200


@pytest.mark.parametrize('bad', [{'fault_rate': 0.95}, {'drop_rate': -0.1}, {'fault_rate': 0.5, 'drop_rate': 0.5},
                                 {'phase': 'sometimes'}])
def test_fault_settings_are_bounded(bad):
    with pytest.raises(ValueError):
        Faults(**bad)


def test_route_matching():
    matched = match_route('GET', '/v1/p/jobs/a%2Fb')
    assert matched is not None
    route, params = matched
    assert params == {'pid': 'p', 'job_name': 'a/b'} and route.service == 'factory'
    assert route.op == 'show_job' and route.template == '/v1/{pid}/jobs/{job_name}'
    assert match_route('POST', '/v1/p/jobs/batch-export') == (ROUTES['export_jobs'], {'pid': 'p'})
    listing = match_route('GET', '/v1.1/p/clusters/c/cdm/link/all')
    assert listing == (ROUTES['list_links'], {'pid': 'p', 'cluster_id': 'c'})
    assert match_route('GET', '/v1/p/jobs/a/b/c') is None


# --- jobsync's commands against it ---------------------------------------------------------------------


def _point_repo_at(repo: Path, url: str, project: str, **dataarts) -> None:
    """Add a target `cloud` for the emulator to the repo's jobsync.yaml and make it the default."""
    config = yaml.safe_load((repo / 'jobsync.yaml').read_text(encoding='utf-8'))
    config['default_target'] = 'cloud'
    config['targets']['cloud'] = {'workspace': 'dataarts', 'expressionTimeZone': 'GMT+8', 'dataarts': {
        'project_id': project, 'workspace_id': 'ws-example',
        'endpoints': {'factory': url, 'management': url, 'cdm': url},
        'rate_limits': {'factory': 0, 'management': 0, 'cdm': 0}, 'backoff_seconds': 0.01, **dataarts}}
    (repo / 'jobsync.yaml').write_text(yaml.safe_dump(config), encoding='utf-8')


def _rows(running, sql: str, *params) -> list[tuple]:
    """Rows of the emulator's database, read with a connection of our own."""
    import sqlite3

    conn = sqlite3.connect(running.emulator.engine.path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


ENV = {'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK, **EXAMPLE_SECRETS}


def test_apply_then_plan_through_the_emulator(example_repo, running_emulator):
    project = uuid.uuid4().hex
    _point_repo_at(example_repo, running_emulator.url, project)
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=ENV)
    assert applied.code == 0, applied
    assert re.search(r'Apply: \d+ applied, 0 failed, 0 skipped', applied.stdout), applied.stdout[-500:]
    again = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode', env=ENV)
    assert again.code == 0, again
    # The plan reports its API calls: with the state apply wrote (a reserved script), nothing has
    # moved, so only list calls and the state's read are spent, no export.
    assert 'GET /v1/{pid}/jobs x2' in again.stdout and 'GET /v1/{pid}/scripts/{script_name} x1' in again.stdout
    assert 'batch-export' not in again.stdout
    assert all(v not in again.stdout + again.stderr + applied.stdout + applied.stderr
               for v in EXAMPLE_SECRETS.values())
    # The passwords reached the service: stored as sent, read back masked.
    stored = ' '.join(row[0] for row in _rows(running_emulator, 'SELECT spec FROM objects WHERE project=?', project))
    assert EXAMPLE_SECRETS['DWS_PASSWORD'] in stored and EXAMPLE_SECRETS['MYSQL_PASSWORD'] in stored


def test_apply_under_5xx_and_throttling_applies_everything_once(example_repo, running_emulator):
    project = uuid.uuid4().hex
    _point_repo_at(example_repo, running_emulator.url, project, max_attempts=12)
    running_emulator.emulator.faults = Faults(fault_rate=0.1, drop_rate=0.02, throttle_rps=40, throttle_burst=10,
                                              seed=11)
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=ENV)
    assert applied.code == 0, applied
    stats = running_emulator.emulator.stats
    assert stats['5xx-before'] + stats['5xx-after'] > 0
    running_emulator.emulator.faults = Faults()
    again = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode', env=ENV)
    assert again.code == 0, again  # everything applied, nothing left to do
    rows = _rows(running_emulator, "SELECT kind, name, COUNT(*) FROM objects WHERE project=? AND kind != 'cluster'"
                                   ' GROUP BY kind, scope, name', project)
    assert rows and all(count == 1 for _, _, count in rows)
    expected = len(list((example_repo / 'jobs').glob('*.*'))) + len(list((example_repo / 'scripts').glob('*.yaml')))
    assert sum(1 for kind, name, _ in rows if kind in ('job', 'script') and not name.startswith('jobsync_')) == expected
    assert ('script', 'jobsync_state_cloud', 1) in rows  # the state apply recorded, once


def test_plan_without_credentials_says_what_to_set(example_repo, running_emulator):
    _point_repo_at(example_repo, running_emulator.url, uuid.uuid4().hex)
    result = run_jobsync('plan', '--repo', str(example_repo))
    assert result.code == 1
    assert 'no DataArts credentials' in result.stderr and 'HUAWEICLOUD_SDK_AK' in result.stderr


def test_the_emulator_command_serves_until_stopped(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith('HUAWEICLOUD_SDK_')}
    proc = subprocess.Popen(
        [sys.executable, '-m', 'jobsync', 'emulator', '--port', '0', '--db', str(tmp_path / 'e.db'),
         '--cdm-cluster', 'cdm-prod=6ec9a0a4-76be-4262-8697-e7af1fac7920'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]

        def found(pattern: str, line: str) -> str:
            match = re.search(pattern, line)
            assert match is not None, line
            return match.group(1)

        url = found(r'listening on (http://127\.0\.0\.1:\d+)', lines[0])
        ak = found(r'HUAWEICLOUD_SDK_AK=(\S+)', lines[2])
        sk = found(r'HUAWEICLOUD_SDK_SK=(\S+)', lines[3])
        path = '/v1.1/p1/clusters'
        host = url.removeprefix('http://')
        signed = signer.sign(ak, sk, method='GET', host=host, path=path, headers={'Content-Type': 'application/json'})
        answer = httpx.get(url + path, headers=signed.headers, timeout=10)
        assert answer.status_code == 200
        assert answer.json()['clusters'][0]['id'] == '6ec9a0a4-76be-4262-8697-e7af1fac7920'
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    assert (tmp_path / 'e.db').exists()
    # SIGTERM is how a server is stopped: a normal end, said as one (not "Interrupted.").
    assert proc.returncode == 0 and stderr.strip() == 'jobsync emulator stopped.', (proc.returncode, stderr)


def test_the_emulator_command_refuses_unpaired_keys(tmp_path):
    result = run_jobsync('emulator', '--port', '0', '--db', str(tmp_path / 'e.db'), '--ak', 'only-ak')
    assert result.code == 1 and '--ak and --sk must come in pairs' in result.stderr


def test_every_route_of_the_table_has_its_handler_and_one_name() -> None:
    assert set(HANDLERS) == set(ROUTES)
    assert len({r.name for r in ROUTES.values()}) == len(ROUTES)  # no route spelt twice
    for route in ROUTES.values():
        path = '/'.join('x' if part.startswith('{') else part for part in route.template.split('/'))
        pid = ('pid',) if '{pid}' in route.template else ()
        assert match_route(route.method, path) == (route, {p: 'x' for p in (*pid, *route.params)}), route.op
