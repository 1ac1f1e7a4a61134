from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobsync import codec

LINK_API = {
    'name': 'mysql_src',
    'connector-name': 'generic-jdbc-connector',
    'link-config-values': {'configs': [{'name': 'linkConfig', 'inputs': [
        {'name': 'linkConfig.host', 'value': '10.0.0.5'},
        {'name': 'linkConfig.port', 'value': 3306},
    ]}]},
}
LINK_REPO = {
    'name': 'mysql_src',
    'connector-name': 'generic-jdbc-connector',
    'link-config-values': {'configs': {'linkConfig': {'linkConfig.host': '10.0.0.5', 'linkConfig.port': 3306}}},
}


def test_cdm_config_lists_become_mappings() -> None:
    doc, content = codec.to_repo('cdm-link', LINK_API)
    assert doc == LINK_REPO
    assert content is None
    assert codec.from_repo('cdm-link', LINK_REPO) == LINK_API


def test_node_properties_become_a_mapping_and_back() -> None:
    api = {'name': 'j', 'nodes': [{'name': 'n', 'type': 'DWSSQL', 'properties': [
        {'name': 'scriptName', 'value': 's'}, {'name': 'connectionName', 'value': 'c'}]}]}
    doc, _ = codec.to_repo('job', api)
    assert doc['nodes'][0]['properties'] == {'scriptName': 's', 'connectionName': 'c'}
    assert codec.from_repo('job', doc) == api


@pytest.mark.parametrize(
    'props',
    (
        pytest.param([{'name': 'a', 'value': '1', 'value_is_sensitive': True}], id='sensitive-flag'),
        pytest.param([{'name': 'a', 'value': '1', 'other': 'x'}], id='extra-key'),
        pytest.param([{'name': 'a', 'value': '1'}, {'name': 'a', 'value': '2'}], id='duplicate-names'),
        pytest.param([{'name': 1, 'value': '1'}], id='non-string-name'),
    ),
)
def test_lists_that_cannot_convert_exactly_stay_lists(props: list[dict[str, Any]]) -> None:
    api = {'name': 'j', 'nodes': [{'name': 'n', 'properties': props}]}
    doc, _ = codec.to_repo('job', api)
    assert doc['nodes'][0]['properties'] == props
    assert codec.from_repo('job', doc) == api


def test_an_exported_false_sensitivity_flag_reads_as_the_plain_pair() -> None:
    # issue 11: real exports add `"value_is_sensitive": false` to every node property
    api = {'name': 'j', 'nodes': [{'name': 'n', 'properties': [
        {'name': 'a', 'value': '1', 'value_is_sensitive': False}, {'name': 'b', 'value': '2'}]}]}
    doc, _ = codec.to_repo('job', api)
    assert doc['nodes'][0]['properties'] == {'a': '1', 'b': '2'}
    assert codec.from_repo('job', doc)['nodes'][0]['properties'] == [{'name': 'a', 'value': '1'},
                                                                     {'name': 'b', 'value': '2'}]


def test_script_content_goes_to_the_sidecar() -> None:
    api = {'name': 's', 'type': 'DWSSQL', 'content': 'select 1;\n'}
    doc, content = codec.to_repo('script', api)
    assert doc == {'name': 's', 'type': 'DWSSQL'}
    assert content == 'select 1;\n'
    assert codec.from_repo('script', doc, content) == api
    assert codec.sidecar_suffix('Shell') == '.sh'
    assert codec.sidecar_suffix('DWSSQL') == '.sql'


_scalar = st.one_of(st.text(max_size=5), st.integers(), st.booleans(), st.none())
_pair = st.fixed_dictionaries({'name': st.text(max_size=4), 'value': _scalar})
_odd = st.dictionaries(st.sampled_from(['name', 'value', 'type', 'x']), _scalar, max_size=3)
_inputs = st.lists(st.one_of(_pair, _odd), max_size=4)
_configs = st.lists(st.fixed_dictionaries({'name': st.text(max_size=4), 'inputs': _inputs}), max_size=3)


@given(configs=_configs, props=_inputs)
def test_api_to_repo_to_api_is_exact(configs: list[Any], props: list[Any]) -> None:
    job = {'name': 'j', 'nodes': [{'name': 'n', 'properties': props}]}
    assert codec.from_repo('job', codec.to_repo('job', job)[0]) == job
    link = {'name': 'l', 'link-config-values': {'configs': configs}}
    assert codec.from_repo('cdm-link', codec.to_repo('cdm-link', link)[0]) == link
