"""Issue 11: the emulator's link check failure and workspace checks, and how jobsync meets them.

Evidence: the api-cdm CreateLink "Example Responses" (a 500 with only `validation-result`), the
provider's reading of `DLF.0819` as a 400 (notes/issue11-facts.md §5, §6).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from conftest import EXAMPLE_SECRETS, run_jobsync
from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK, RunningEmulator, target_the_emulator
from workspace_specs import connection_spec, link_spec, resource_spec

from jobsync.config import Target
from jobsync.errors import ImportRefused
from jobsync.model import ObjectKey
from jobsync.workspace.agents import with_agent_id
from jobsync.workspace.bodies import full_body
from jobsync.workspace.connect import open_dataarts
from jobsync.workspace.emulator import Gateway
from jobsync.workspace.http import HttpTransport
from jobsync.workspace.service import Engine
from jobsync.workspace.transport import VALIDATION_CODE, ApiError, parse_error

BAD_HOST = '10.9.9.9'


def _bad_link(name: str) -> dict[str, object]:
    spec = link_spec(name)
    spec['link-config-values']['configs'][0]['inputs'][0]['value'] = BAD_HOST
    return spec


def test_validation_500_is_a_final_refusal() -> None:
    body = {'validation-result': [{'linkConfig': [{'message': "Can't connect", 'status': 'ERROR'}]}]}
    err = parse_error(500, json.dumps(body).encode(), {})
    assert err.code == VALIDATION_CODE and err.message == "Can't connect" and not err.ambiguous


def test_link_check_failure_one_attempt_message_shown_rest_continues(running_emulator: RunningEmulator) -> None:
    running_emulator.emulator.unreachable_hosts = frozenset({BAD_HOST})
    try:
        ws = running_emulator.workspace()
        bad, good = ObjectKey('cdm-link', 'bad', 'cdm-prod'), ObjectKey('cdm-link', 'good', 'cdm-prod')
        res = ObjectKey('resource', 'app')
        with pytest.raises(ImportRefused) as caught:
            ws.import_objects([(bad, _bad_link('bad')), (good, link_spec('good')), (res, resource_spec('app'))])
        assert set(caught.value.reasons) == {str(bad)}
        assert "Can't connect to the database" in caught.value.reasons[str(bad)]
        assert sorted(caught.value.written or []) == sorted([str(good), str(res)])
        link_post = 'POST /v1.1/{pid}/clusters/{cluster_id}/cdm/link'
        assert ws.http.calls[link_post] == 2  # one attempt for the bad link, one for the good
        ws.close()
    finally:
        running_emulator.emulator.unreachable_hosts = frozenset()


def test_unknown_workspace_is_dlf_0819_and_missing_header_refused(tmp_path: object) -> None:
    gateway = Gateway(Engine(str(tmp_path) + '/e.db'), verify=False, workspaces={'ws-1': 'team'})
    plain = Gateway(Engine(str(tmp_path) + '/p.db'), verify=False)  # no option: the checks are on by default
    try:
        for path, headers in ((f'/v1/{uuid.uuid4().hex}/data-connections', {}),
                              (f'/v1/{uuid.uuid4().hex}/jobs', {'workspace': 'ws-1'})):
            answer = plain.handle('GET', path, '', headers, b'')
            assert answer is not None and answer.status == 400
        pid = uuid.uuid4().hex
        unknown = gateway.handle('GET', f'/v1/{pid}/scripts', '', {'workspace': 'nope'}, b'')
        assert unknown is not None and unknown.status == 400
        assert json.loads(unknown.content)['error_code'] == 'DLF.0819'
        known = gateway.handle('GET', f'/v1/{pid}/scripts', '', {'workspace': 'ws-1'}, b'')
        assert known is not None and known.status == 200
        bare = gateway.handle('GET', f'/v1/{pid}/data-connections', '', {}, b'')
        assert bare is not None and bare.status == 400
        assert 'workspace' in json.loads(bare.content)['errors'][0]['error_msg']
        cdm = gateway.handle('GET', f'/v1.1/{pid}/clusters', '', {'workspace': 'nope'}, b'')
        assert cdm is not None and cdm.status == 200  # CDM ignores the header
    finally:
        gateway.close()
        plain.close()


def _target(url: str, **extra: object) -> Target:
    dataarts = {'project_id': uuid.uuid4().hex, 'endpoints': {'factory': url, 'management': url, 'cdm': url},
                'rate_limits': {'factory': 0, 'management': 0, 'cdm': 0}, **extra}
    return Target('prod', workspace='dataarts', settings={'workspace': 'dataarts', 'dataarts': dataarts})


ENV = {'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK}


def test_default_workspace_is_looked_up_and_sent(running_emulator: RunningEmulator) -> None:
    # The checks are on by default: the session emulator refuses unknown ids and a missing header.
    assert 'ws-nope' not in running_emulator.emulator.workspaces
    ws = open_dataarts(_target(running_emulator.url), ENV)
    try:
        assert isinstance(ws.http, HttpTransport) and ws.http.settings.workspace_id == 'default'
        assert ws.http.calls['GET /v1/{pid}/instances'] == 1
        assert ws.http.calls['GET /v1/{pid}/workspaces/{instance_id}'] == 1
        ws.list_objects()  # the Management Center list passes: the header is sent
    finally:
        ws.close()
    with pytest.raises(ApiError) as caught:
        bad = open_dataarts(_target(running_emulator.url, workspace_id='ws-nope'), ENV)
        try:
            bad.list_objects()
        finally:
            bad.close()
    assert caught.value.code == 'DLF.0819' and 'workspace_id' in caught.value.hint


def test_server_managed_job_fields_are_not_sent() -> None:
    body = full_body('job', {'name': 'j', 'id': 7, 'version': '3', 'lastUpdateUser': 'console', 'nodes': []})
    assert not {'id', 'version', 'lastUpdateUser'} & set(body)
    assert body['name'] == 'j'


def test_agent_id_resolved_sent_and_read_back(running_emulator: RunningEmulator) -> None:
    ws = running_emulator.workspace()
    try:
        spec = {**connection_spec('dws_agent'), 'agent_name': 'cdm-prod'}
        key = ObjectKey('connection', 'dws_agent')
        ws.import_objects([(key, spec)])
        cluster_id = ws.clusters()['cdm-prod']
        live = ws.read([key])[key]
        assert live.spec['agent_id'] == cluster_id
        assert ws.http.calls['GET /v1.1/{pid}/clusters'] == 1
    finally:
        ws.close()


def test_with_agent_id_fills_only_a_known_agent() -> None:
    clusters = {'cdm-prod': 'c-1'}.copy
    assert with_agent_id('connection', {'agent_name': 'cdm-prod'}, clusters)['agent_id'] == 'c-1'
    assert 'agent_id' not in with_agent_id('connection', {'agent_name': 'elsewhere'}, clusters)
    assert with_agent_id('connection', {'agent_name': 'cdm-prod', 'agent_id': 'x'}, clusters)['agent_id'] == 'x'
    assert with_agent_id('script', {'agent_name': 'cdm-prod'}, clusters) == {'agent_name': 'cdm-prod'}


def test_a_failing_job_instance_fails_run_wait_over_http(example_repo: Path, running_emulator: RunningEmulator) -> None:
    """The emulator's `failing_jobs` (`--failing-job`) make an instance end `fail` ([SDK]
    `ShowJobInstanceResponse.status`), so `run --once --wait` is tried against a failure for real."""
    target_the_emulator(example_repo, running_emulator.url)
    env = {**ENV, **EXAMPLE_SECRETS}
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=env).code == 0
    running_emulator.emulator.engine.failing_jobs = frozenset({'job_batch'})
    try:
        result = run_jobsync('run', '--once', 'job_batch', '--wait', '--interval', '0.01', '--repo', str(example_repo),
                             env=env)
    finally:
        running_emulator.emulator.engine.failing_jobs = frozenset()
    assert result.code == 1, result
    assert 'job/job_batch: fail' in result.stdout and 'Run: 0 ok, 1 failed.' in result.stdout, result.stdout
