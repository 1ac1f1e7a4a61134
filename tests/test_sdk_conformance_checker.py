"""The SDK-conformance checker (tests/sdk_conformance.py) and the route table (tests/sdk_routes.py),
tested on their own: these run while the emulator-driven test_sdk_conformance.py is skipped."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest

pytest.importorskip('huaweicloudsdkdgc')
pytest.importorskip('huaweicloudsdkcdm')
pytest.importorskip('huaweicloudsdkdataartsstudio')

import huaweicloudsdkcdm.v1 as cdm
import huaweicloudsdkdataartsstudio.v1 as studio
import huaweicloudsdkdgc.v1 as dgc
from sdk_conformance import allowed, check, required_fields
from sdk_routes import CDM, DGC, PLANNED_ROUTES, SDK_ROUTES, STUDIO, SdkOperation

_CLIENTS = {DGC: 'DgcClient', CDM: 'CdmClient', STUDIO: 'DataArtsStudioClient'}


def test_a_field_the_model_lacks_is_named_with_its_place_and_model() -> None:
    answer = {'total': 1, 'scripts': [{'name': 's', 'type': 'DWSSQL', 'content': 'SELECT 1;', 'lastUpdateTime': 1}]}
    assert check(dgc.ListScriptsResponse, answer) == ['/scripts/0/lastUpdateTime: not in ScriptInfo']


def test_a_required_field_missing_in_a_nested_model_is_reported() -> None:
    answer = {'total': 1, 'scripts': [{'name': 's', 'type': 'DWSSQL'}]}
    assert check(dgc.ListScriptsResponse, answer) == ['/scripts/0/content: required by ScriptInfo, missing']


def test_required_is_read_from_the_models_init() -> None:
    assert required_fields(dgc.ScriptInfo) == {'name', 'type', 'content'}
    assert required_fields(dgc.ListJobsResponse) == set()  # response tops: nothing mandatory
    assert required_fields(cdm.Links) == {'name', 'connector-name', 'link-config-values'}


def test_wrong_json_types_are_reported_and_json_null_is_accepted() -> None:
    assert check(dgc.ShowScriptResponse, {'id': 7, 'version': True, 'description': None}) == [
        '/id: expected str, got integer (ShowScriptResponse)',
        '/version: expected int, got boolean (ShowScriptResponse)']
    assert check(studio.ApigDataSourceView, {'create_time': 1700000000000}) == []  # float takes an integer


def test_dicts_lists_and_objects_are_walked() -> None:
    link = {'name': 'l', 'connector-name': 'c', 'link-config-values': {'configs': [
        {'name': 'linkConfig', 'inputs': [{'name': 'a', 'value': {'any': 'thing'}}, {'name': 'b'}]}]}}
    assert check(cdm.ShowLinkResponse, {'links': [link]}) == [
        '/links/0/link-config-values/configs/0/inputs/1/value: required by Input, missing']
    assert check(dgc.ScriptInfo, {'name': 's', 'type': 't', 'content': '', 'configuration': {'k': {'x': 1}}}) == []
    assert check(dgc.ListJobsResponse, {'jobs': {}}) == [
        '/jobs: expected list[JobResult], got object (ListJobsResponse)']


def test_empty_models_take_no_body_and_body_models_take_the_whole_answer() -> None:
    assert check(dgc.CreateJobResponse, None) == [] and check(dgc.CreateJobResponse, {}) == []
    assert check(dgc.CreateJobResponse, {'id': 1}) == ['/id: not in CreateJobResponse']
    assert check(dgc.CreateResourceResponse, 'abc') == []
    assert check(dgc.CreateResourceResponse, {'resourceId': 'x'}) == [
        '/: expected str, got object (CreateResourceResponse)']


def test_json_pointer_keys_are_escaped_and_allowances_match_by_segment() -> None:
    assert check(dgc.RunOnceResponse, {'a/b': 1}) == ['/a~1b: not in RunOnceResponse']
    answer = {'total': 1, 'scripts': [{'name': 's', 'type': 't', 'content': '', 'x': 1}]}
    assert check(dgc.ListScriptsResponse, answer, allow=['/scripts/*/x']) == []
    assert allowed('/a/0/b', ['/a/*/b']) and not allowed('/a/0/b/c', ['/a/*/b']) and not allowed('/a', ['/b'])


def _sdk_path(template: str) -> str:
    """jobsync's template in the SDK's spelling (`all` is a value of the SDK's name parameter)."""
    return (template.replace('{pid}', '{project_id}').replace('/cdm/link/all', '/cdm/link/{link_name}')
            .replace('/cdm/job/all', '/cdm/job/{job_name}'))


@pytest.mark.parametrize(('key', 'operation'), sorted({**SDK_ROUTES, **PLANNED_ROUTES}.items()),
                         ids=[f'{m} {t}' for m, t in sorted({**SDK_ROUTES, **PLANNED_ROUTES})])
def test_every_table_entry_is_the_sdk_operation_of_its_route(key: tuple[str, str], operation: SdkOperation) -> None:
    if operation.operation is None:
        assert key[1].startswith('/_emulator/') and operation.note
        return
    client = getattr(importlib.import_module(operation.sdk), _CLIENTS[operation.sdk])
    info = getattr(client, f'_{operation.operation}_http_info')(SimpleNamespace(attribute_map={}))
    assert (info['method'], info['resource_path']) == (key[0], _sdk_path(key[1]))
    if operation.response is None:
        assert operation.note, 'a route without a model to check says why'
    else:
        assert info['response_type'] == operation.response and operation.model() is not None
