"""Wire fidelity, judged by a client nobody here wrote: the official Huawei Cloud Python SDK.

* The SDK (`huaweicloudsdkdgc`, `huaweicloudsdkcdm`), pointed at the emulator with
  `with_endpoints`, lists, shows, creates and updates jobs, scripts and CDM links; jobsync's own
  HTTP backend then reads what the SDK wrote (and the other way round).
* jobsync's signer gives the same `Authorization` and wire query as the SDK's own
  `huaweicloudsdkcore.signer.Signer` on many generated requests.

The SDK is a test-only dependency (the `test` extra).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workspace_specs import job_spec, link_spec, read_all, script_spec

pytest.importorskip('huaweicloudsdkdgc')
pytest.importorskip('huaweicloudsdkcdm')

import huaweicloudsdkcdm.v1 as cdm
import huaweicloudsdkdgc.v1 as dgc
from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from jobsync.model import ObjectKey
from jobsync.workspace import signer

WORKSPACE_ID = 'ws-test'  # the workspace the dataarts fixture's workspaces use


def _config() -> HttpConfig:
    config = HttpConfig.get_default_config()
    config.retry_times = 0
    config.timeout = (5, 30)
    return config


@pytest.fixture
def project() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def dgc_client(running_emulator, project):
    credentials = BasicCredentials(EMULATOR_AK, EMULATOR_SK, project)
    return (dgc.DgcClient.new_builder().with_credentials(credentials).with_http_config(_config())
            .with_endpoints([running_emulator.url]).build())


@pytest.fixture
def cdm_client(running_emulator, project):
    credentials = BasicCredentials(EMULATOR_AK, EMULATOR_SK, project)
    return (cdm.CdmClient.new_builder().with_credentials(credentials).with_http_config(_config())
            .with_endpoints([running_emulator.url]).build())


@pytest.fixture
def jobsync_ws(running_emulator, project):
    ws = running_emulator.workspace(project, workspace_id=WORKSPACE_ID)
    yield ws
    ws.close()


def _sdk_job(name: str, script: str, cron: str = '0 0 2 * * ?') -> dgc.JobInfo:
    node = dgc.Node(name='run', type='DWSSQL', location=dgc.Location(x='10', y='20'), pre_node_name=[],
                    properties=[dgc.ModelProperty(name='scriptName', value=script)])
    schedule = dgc.Schedule(type='CRON', cron=dgc.Cron(start_time='2025-01-01T00:00:00+08', expression=cron))
    return dgc.JobInfo(name=name, process_type='BATCH', directory='/sdk', nodes=[node], schedule=schedule)


def test_sdk_creates_lists_shows_and_updates_jobs_and_scripts(dgc_client, jobsync_ws):
    dgc_client.create_script(dgc.CreateScriptRequest(workspace=WORKSPACE_ID, body=dgc.ScriptInfo(
        name='sdk_sql', type='DWSSQL', content='SELECT 1;', directory='/', connection_name='dws')))
    dgc_client.create_job(dgc.CreateJobRequest(workspace=WORKSPACE_ID, body=_sdk_job('sdk_job', 'sdk_sql')))

    listed = dgc_client.list_jobs(dgc.ListJobsRequest(workspace=WORKSPACE_ID, limit=10, offset=0))
    assert listed.total == 1 and [j.name for j in listed.jobs] == ['sdk_job']
    assert listed.jobs[0].status == 'STOPPED'
    shown = dgc_client.show_job(dgc.ShowJobRequest(workspace=WORKSPACE_ID, job_name='sdk_job'))
    assert shown.name == 'sdk_job' and shown.nodes[0].properties[0].value == 'sdk_sql'
    scripts = dgc_client.list_scripts(dgc.ListScriptsRequest(workspace=WORKSPACE_ID, limit=10, offset=0))
    assert [s.name for s in scripts.scripts] == ['sdk_sql']

    dgc_client.update_job(dgc.UpdateJobRequest(workspace=WORKSPACE_ID, job_name='sdk_job',
                                               body=_sdk_job('sdk_job', 'sdk_sql', cron='0 0 3 * * ?')))
    dgc_client.update_script(dgc.UpdateScriptRequest(workspace=WORKSPACE_ID, script_name='sdk_sql', body=dgc.ScriptInfo(
        name='sdk_sql', type='DWSSQL', content='SELECT 2;', directory='/', connection_name='dws')))
    assert dgc_client.show_script(dgc.ShowScriptRequest(workspace=WORKSPACE_ID, script_name='sdk_sql')).content == \
        'SELECT 2;'

    # jobsync reads what the SDK wrote, through its own client.
    live = read_all(jobsync_ws)
    assert sorted(live) == [ObjectKey('script', 'sdk_sql'), ObjectKey('job', 'sdk_job')]
    assert live[ObjectKey('job', 'sdk_job')].spec['schedule']['cron']['expression'] == '0 0 3 * * ?'
    assert live[ObjectKey('script', 'sdk_sql')].spec['content'] == 'SELECT 2;'


def test_sdk_reads_what_jobsync_wrote(dgc_client, jobsync_ws):
    jobsync_ws.import_objects([(ObjectKey('script', 'js_sql'), script_spec('js_sql', content='SELECT 42;')),
                               (ObjectKey('job', 'js_job'), job_spec('js_job', scripts=('js_sql',)))])
    shown = dgc_client.show_job(dgc.ShowJobRequest(workspace=WORKSPACE_ID, job_name='js_job'))
    assert shown.process_type == 'BATCH' and shown.directory == '/etl'
    assert dgc_client.show_script(dgc.ShowScriptRequest(workspace=WORKSPACE_ID, script_name='js_sql')).content == \
        'SELECT 42;'


def test_sdk_sees_the_services_error_codes_and_request_ids(dgc_client):
    with pytest.raises(ClientRequestException) as caught:
        dgc_client.show_job(dgc.ShowJobRequest(workspace=WORKSPACE_ID, job_name='nope'))
    assert (caught.value.status_code, caught.value.error_code) == (400, 'DLF.0100')
    assert len(caught.value.request_id) == 32
    with pytest.raises(ClientRequestException) as caught:
        dgc_client.create_job(dgc.CreateJobRequest(workspace=WORKSPACE_ID, body=dgc.JobInfo(
            name='empty', process_type='BATCH', nodes=[], schedule=dgc.Schedule(type='EXECUTE_ONCE'))))
    assert caught.value.error_code == 'DLF.1006'


def test_sdk_with_a_wrong_secret_is_refused_by_the_gateway(running_emulator, project):
    credentials = BasicCredentials(EMULATOR_AK, 'not-the-secret', project)
    client = (dgc.DgcClient.new_builder().with_credentials(credentials).with_http_config(_config())
              .with_endpoints([running_emulator.url]).build())
    with pytest.raises(ClientRequestException) as caught:
        client.list_jobs(dgc.ListJobsRequest(limit=10, offset=0))
    assert (caught.value.status_code, caught.value.error_code) == (401, 'APIGW.0301')


def _sdk_link(password: str, host: str) -> cdm.Links:
    inputs = [cdm.Input(name='linkConfig.host', value=host), cdm.Input(name='linkConfig.port', value='3306'),
              cdm.Input(name='linkConfig.password', value=password)]
    return cdm.Links(name='sdk_link', connector_name='generic-jdbc-connector', enabled=True,
                     link_config_values=cdm.LinksLinkconfigvalues(configs=[cdm.Configs(name='linkConfig',
                                                                                      inputs=inputs)]))


def test_sdk_creates_shows_and_updates_cdm_links(cdm_client, jobsync_ws):
    clusters = cdm_client.list_clusters(cdm.ListClustersRequest()).clusters
    cluster_id = next(c.id for c in clusters if c.name == 'cdm-prod')
    body = cdm.CdmCreateAndUpdateLinkReq(links=[_sdk_link('pw-1', '10.0.0.1')])
    created = cdm_client.create_link(cdm.CreateLinkRequest(cluster_id=cluster_id, body=body))
    assert created.name == 'sdk_link'
    shown = cdm_client.show_link(cdm.ShowLinkRequest(cluster_id=cluster_id, link_name='sdk_link'))
    inputs = {i.name: i.value for i in shown.links[0].link_config_values.configs[0].inputs}
    assert inputs['linkConfig.password'] == 'Add password here'
    body = cdm.CdmCreateAndUpdateLinkReq(links=[_sdk_link('pw-2', 'db.example.com:3306/x?y=1')])
    cdm_client.update_link(cdm.UpdateLinkRequest(cluster_id=cluster_id, link_name='sdk_link', body=body))

    shown = cdm_client.show_link(cdm.ShowLinkRequest(cluster_id=cluster_id, link_name='sdk_link'))
    raw = {i.name: i.value for i in shown.links[0].link_config_values.configs[0].inputs}
    assert raw['linkConfig.host'] == 'db.example.com%3A3306%2Fx%3Fy%3D1'  # GET values are URL-encoded (§9.3)
    live = read_all(jobsync_ws)[ObjectKey('cdm-link', 'sdk_link', 'cdm-prod')]
    values = {i['name']: i['value'] for i in live.spec['link-config-values']['configs'][0]['inputs']}
    assert values['linkConfig.host'] == 'db.example.com:3306/x?y=1'  # ...and jobsync decodes them


def test_sdk_reads_links_jobsync_wrote(cdm_client, jobsync_ws):
    jobsync_ws.import_objects([(ObjectKey('cdm-link', 'js_link', 'cdm-prod'), link_spec('js_link'))])
    cluster_id = jobsync_ws.clusters()['cdm-prod']
    shown = cdm_client.show_link(cdm.ShowLinkRequest(cluster_id=cluster_id, link_name='js_link'))
    assert shown.links[0].connector_name == 'generic-jdbc-connector'


# --- the signer against the SDK's own -------------------------------------------------------------

_chars = st.characters(blacklist_categories=('Cs', 'Cc'))
_segment = st.text(alphabet=_chars, min_size=1, max_size=10).filter(lambda s: s not in ('.', '..'))
_value = st.one_of(st.text(alphabet=_chars, max_size=10), st.integers(-10**6, 10**6), st.booleans())
_header_name = st.from_regex(r'[A-Za-z][A-Za-z0-9_-]{0,12}', fullmatch=True).filter(
    lambda n: n.lower() not in ('host', 'authorization', 'x-sdk-date', 'content-type', 'x-sdk-content-sha256'))
_header_value = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=16)


@st.composite
def _requests(draw: st.DrawFn) -> dict:
    query_keys = draw(st.lists(st.text(alphabet=_chars, min_size=1, max_size=6), max_size=4, unique=True))
    query = [(k, draw(st.one_of(_value, st.lists(st.text(alphabet=_chars, max_size=5), min_size=1, max_size=3))))
             for k in query_keys]
    return {
        'method': draw(st.sampled_from(['GET', 'POST', 'PUT', 'DELETE'])),
        'segments': draw(st.lists(_segment, min_size=1, max_size=4)),
        'trailing': draw(st.booleans()),
        'query': query,
        # Header names are case-insensitive in HTTP: no two differing only in case.
        'headers': {name: draw(_header_value) for name in draw(st.lists(
            _header_name, max_size=4, unique_by=str.lower))},
        'content_type': draw(st.sampled_from(['application/json', 'application/json;charset=UTF-8',
                                              'application/octet-stream'])),
        'body': draw(st.one_of(st.just(b''), st.binary(min_size=1, max_size=64))),
        'host': draw(st.sampled_from(['dayu-dlf.cn-north-4.myhuaweicloud.com', '127.0.0.1:8443', 'cdm.x.com'])),
        'date': draw(st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31))).strftime('%Y%m%dT%H%M%SZ'),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(req=_requests())
def test_our_signer_matches_the_sdks_signer(req):
    path = '/' + '/'.join(quote(s, safe='') for s in req['segments']) + ('/' if req['trailing'] else '')
    headers = {**req['headers'], 'Content-Type': req['content_type'], 'X-Sdk-Date': req['date']}
    if not req['content_type'].startswith('application/json'):
        headers['X-Sdk-Content-Sha256'] = 'UNSIGNED-PAYLOAD'  # what the SDK adds for such bodies
    sdk_request = SdkRequest(method=req['method'], schema='https', host=req['host'], resource_path=path,
                             query_params=[(k, list(v) if isinstance(v, list) else v) for k, v in req['query']],
                             header_params=dict(headers), body=req['body'])
    sdk_signed = Signer(BasicCredentials(EMULATOR_AK, EMULATOR_SK)).sign(sdk_request)

    ours = signer.sign(EMULATOR_AK, EMULATOR_SK, method=req['method'], host=req['host'], path=path,
                       query=req['query'], headers=headers, body=req['body'])
    assert ours.headers['Authorization'] == sdk_signed.header_params['Authorization']
    assert (f'{path}?{ours.query}' if ours.query else path) == sdk_signed.uri
    # ...and the emulator's verification accepts the SDK's signature for what was sent.
    wire_headers = {**headers, 'Host': req['host'], 'Authorization': sdk_signed.header_params['Authorization']}
    assert signer.verify(method=req['method'], path=path, query=ours.query, headers=wire_headers, body=req['body'],
                         secret_for={EMULATOR_AK: EMULATOR_SK}.get,
                         now=signer_datetime(req['date'])) == EMULATOR_AK


def signer_datetime(text: str) -> datetime:
    return datetime.strptime(text, signer.DATE_FORMAT).replace(tzinfo=timezone.utc)
