"""Templates: one file, many definitions, problems reported against the template and the parameter set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from jobsync.errors import ConfigError
from jobsync.gitrepo import Snapshot
from jobsync.load import LoadResult, load_repo
from jobsync.model import ObjectKey
from jobsync.templates import expand, is_template

CONFIG = b"""
targets:
  dev: {workspace: 'local:dev.db', variables: {ods: ods_dev}}
  prod: {workspace: 'local:prod.db', variables: {ods: ods}, remap: {cdm_clusters: {cdm-a: cdm-prod-01}}}
"""
LINK = (b'connector-name: generic-jdbc-connector\nlink-config-values:\n  configs:\n    linkConfig:\n'
        b'      linkConfig.host: h\n')
TABLES = [f't{i:02d}' for i in range(10)]


def template(params: list[dict[str, object]], *, name: str = 'mysql2dws_${param:table}', extra: str = '') -> bytes:
    doc = {
        'params': params,
        'name': name,
        'template': {
            'job_type': '${param:job_type}',
            'from-connector-name': 'generic-jdbc-connector', 'from-link-name': 'src',
            'to-connector-name': 'generic-jdbc-connector', 'to-link-name': 'dst',
            'from-config-values': {'configs': {'fromJobConfig': {'fromJobConfig.tableName': '${param:table}'}}},
            'to-config-values': {'configs': {'toJobConfig': {
                'toJobConfig.schemaName': '${var:ods}', 'toJobConfig.tableName': '${param:table}'}}},
            'driver-config-values': {'configs': {'throttlingConfig': {
                'throttlingConfig.numExtractors': '${param:extractors}'}}},
        },
    }
    text = yaml.safe_dump(doc, sort_keys=False)
    return (text + extra).encode()


def files(tpl: bytes) -> dict[str, bytes]:
    return {'jobsync.yaml': CONFIG, 'cdm/cdm-a/links/src.yaml': LINK, 'cdm/cdm-a/links/dst.yaml': LINK,
            'cdm/cdm-a/jobs/tables.template.yaml': tpl}


def load(f: dict[str, bytes], target: str = 'prod') -> LoadResult:
    return load_repo(Snapshot(Path('/repo'), 'test', f), target)


def errors(f: dict[str, bytes], target: str = 'prod') -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(f, target)
    return [str(d) for d in info.value.diagnostics if d.severity == 'error']


def ten() -> list[dict[str, object]]:
    return [{'table': t, 'extractors': '2', 'job_type': 'NORMAL_JOB'} for t in TABLES]


def test_ten_parameter_sets_make_ten_objects_each_under_its_own_key() -> None:
    result = load(files(template(ten())))
    jobs = [key for key in result.desired if key.kind == 'cdm-job']
    assert jobs == [ObjectKey('cdm-job', f'mysql2dws_{t}', 'cdm-prod-01') for t in TABLES]
    third = result.desired[ObjectKey('cdm-job', 'mysql2dws_t03', 'cdm-prod-01')]
    assert third.spec['name'] == 'mysql2dws_t03'
    to_inputs = third.spec['to-config-values']['configs'][0]['inputs']
    assert to_inputs == [{'name': 'toJobConfig.schemaName', 'value': 'ods'},
                         {'name': 'toJobConfig.tableName', 'value': 't03'}]
    assert third.source.label == 'cdm/cdm-a/jobs/tables.template.yaml#/params/3'
    dev = load(files(template(ten())), 'dev').desired[ObjectKey('cdm-job', 'mysql2dws_t03', 'cdm-a')]
    assert dev.spec['to-config-values']['configs'][0]['inputs'][0]['value'] == 'ods_dev'


def test_a_bad_parameter_set_is_reported_with_the_template_file_and_its_index() -> None:
    params = ten()
    params[3]['job_type'] = 'FULL_JOB'
    tpl = template(params)
    problems = errors(files(tpl))
    assert len(problems) == 1, problems
    line = tpl.decode().splitlines().index('  job_type: FULL_JOB') + 1
    assert problems[0].startswith(
        f"error: cdm/cdm-a/jobs/tables.template.yaml:{line}#/params/3/job_type: job_type 'FULL_JOB' is not one of: "
        "'NORMAL_JOB', 'BATCH_JOB', 'SCENARIO_JOB' (cdm-job/cdm-a/mysql2dws_t03 from parameter set 3, "
        'template field /template/job_type)'), problems[0]


def test_a_parameter_missing_from_one_set() -> None:
    params = ten()
    del params[7]['extractors']
    problems = errors(files(template(params)))
    assert len(problems) == 1, problems
    assert re.search(r"tables.template.yaml:\d+#/params/7: parameter set 7 has no parameter 'extractors'", problems[0])
    assert 'it has: job_type, table' in problems[0]


def test_two_sets_generating_one_name() -> None:
    params = ten()
    params[5]['table'] = 't01'
    problems = errors(files(template(params)))
    assert any("#/params/5: parameter sets 1 and 5 both generate the name 'mysql2dws_t01'" in p for p in problems)


def test_a_problem_of_the_template_body_is_reported_once_at_the_template() -> None:
    tpl = template(ten()).replace(b'from-link-name: src', b'from-link-nam: src')
    problems = errors(files(tpl))
    unknown = [p for p in problems if "unknown field 'from-link-nam'" in p]
    assert len(unknown) == 1, problems
    assert unknown[0].startswith('error: cdm/cdm-a/jobs/tables.template.yaml:')
    assert '#/template/from-link-nam' in unknown[0] and 'every parameter set' in unknown[0]


def test_a_missing_link_in_the_template_names_the_generated_object() -> None:
    tpl = template(ten()[:1]).replace(b'to-link-name: dst', b'to-link-name: nowhere')
    problems = errors(files(tpl))
    assert len(problems) == 1, problems
    assert "CDM link 'nowhere' is not defined in the repo (cdm-link/cdm-prod-01/nowhere)" in problems[0]
    assert 'tables.template.yaml:2#/params/0' in problems[0] and 'template field /template/to-link-name' in problems[0]


def test_the_template_file_itself_is_checked_against_its_schema() -> None:
    problems = errors(files(b'params: []\nname: x\ntemplate: {}\nparam: {}\n'))
    assert any('#/params: params must have at least 1 item' in p for p in problems), problems
    assert any("#/param: unknown field 'param'" in p and "did you mean 'params'" in p for p in problems), problems


def test_generated_name_must_match_the_kind_rules() -> None:
    problems = errors(files(template([{'table': 'x' * 240, 'extractors': '1', 'job_type': 'NORMAL_JOB'}])))
    assert any('#/params/0/table: name' in p and 'at most 240' in p and 'template field /name' in p
               for p in problems), problems


def test_script_template_with_a_sidecar() -> None:
    f = {
        'jobsync.yaml': CONFIG,
        'connections/dws.yaml': b'dw_type: DWS\n',
        'scripts/refresh.template.yaml': b'params: [{mart: sales}, {mart: stock}]\nname: refresh_${param:mart}\n'
                                         b'template: {type: DWSSQL, connectionName: dws, directory: /marts}\n',
        'scripts/refresh.template.sql': b'refresh materialized view ${var:ods}.${param:mart};\n',
    }
    result = load(f)
    assert [k.name for k in result.desired if k.kind == 'script'] == ['refresh_sales', 'refresh_stock']
    assert result.desired[ObjectKey('script', 'refresh_stock')].spec['content'] == \
        'refresh materialized view ods.stock;\n'


def test_template_expansion_keeps_the_type_of_whole_values() -> None:
    instances, problems = expand({'params': [{'n': 3, 'on': True}], 'name': 'x${param:n}',
                                  'template': {'retries': '${param:n}', 'flag': '${param:on}', 'text': 'n=${param:n}'}})
    assert problems == []
    assert instances[0].name == 'x3'
    assert instances[0].data == {'retries': 3, 'flag': True, 'text': 'n=3'}
    assert instances[0].used == {'/name': ('n',), '/template/retries': ('n',), '/template/flag': ('on',),
                                 '/template/text': ('n',)}


@pytest.mark.parametrize(('stem', 'expected'), [('tables.template', True), ('.template', False), ('tables', False),
                                                ('template', False)])
def test_template_files_are_recognised_by_their_stem(stem: str, expected: bool) -> None:
    assert is_template(stem) is expected
