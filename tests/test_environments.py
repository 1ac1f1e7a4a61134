"""One repo, several targets: variables, remapping, scope, templates and time zones at load time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jobsync import secrets
from jobsync.errors import ConfigError, UsageError
from jobsync.gitrepo import Snapshot
from jobsync.load import LoadResult, load_repo
from jobsync.model import ObjectKey

CONFIG = b"""
default_target: dev
variables:
  dws_host: 10.0.0.1
  timeout: 60
targets:
  dev:
    workspace: local:.jobsync/dev.db
  prod:
    workspace: local:.jobsync/prod.db
    variables:
      dws_host: 10.9.9.9
      timeout: 120
      strict: true
      files: [obs://b/a.jar, obs://b/b.jar]
    remap:
      connections: {dws: dws_prod}
      cdm_clusters: {cdm-a: cdm-prod-01}
      mrs_clusters: {lake: lake-prod}
      dli_queues: {etl: etl_prod}
      dis_streams: {orders: orders-prod}
    expressionTimeZone: Asia/Shanghai
"""
CONN = b"""dw_type: DWS
agent_name: cdm-a
dw_config:
  host: ${var:dws_host}
  url: jdbc:postgresql://${var:dws_host}:8000/dw
  password: ${secret:env:DWS_PASSWORD}
"""
SCRIPT = b'type: DWSSQL\nconnectionName: dws\n'
JOB = b"""processType: BATCH
basicConfig:
  instanceTimeout: ${var:timeout}
schedule:
  type: CRON
  cron:
    startTime: '2025-01-01T00:00:00+08'
    expression: 0 0 2 * * ?
nodes:
  - name: run
    type: DWSSQL
    properties:
      scriptName: s1
      connectionName: dws
  - name: copy
    type: CDMJob
    properties:
      clusterName: cdm-a
      jobName: copy
"""
LINK = (b'connector-name: generic-jdbc-connector\nlink-config-values:\n  configs:\n    linkConfig:\n'
        b'      linkConfig.host: h\n')
CDM_JOB = (b'from-connector-name: generic-jdbc-connector\nfrom-link-name: src\n'
           b'to-connector-name: generic-jdbc-connector\nto-link-name: src\n')


def snapshot(files: dict[str, bytes]) -> Snapshot:
    return Snapshot(Path('/repo'), 'test', files)


def base(**extra: bytes) -> dict[str, bytes]:
    files = {
        'jobsync.yaml': CONFIG, 'connections/dws.yaml': CONN, 'scripts/s1.yaml': SCRIPT,
        'scripts/s1.sql': b'select 1;\n', 'jobs/daily.yaml': JOB,
        'cdm/cdm-a/links/src.yaml': LINK, 'cdm/cdm-a/jobs/copy.yaml': CDM_JOB,
    }
    files.update({k.replace('__', '/').replace('_DOT_', '.'): v for k, v in extra.items()})
    return files


def load(files: dict[str, bytes], target: str | None = None, **kw: Any) -> LoadResult:
    return load_repo(snapshot(files), target, **kw)


def errors(files: dict[str, bytes], target: str | None = None, **kw: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(files, target, **kw)
    return [str(d) for d in info.value.diagnostics if d.severity == 'error']


def plain(value: Any) -> Any:
    return secrets.to_jsonable(value)


def props(job: dict[str, Any], node: int) -> dict[str, Any]:
    return {p['name']: p['value'] for p in job['nodes'][node]['properties']}


# --- variables ------------------------------------------------------------------------------------


def test_variables_fill_strings_and_keep_the_type_of_a_whole_value() -> None:
    dev = load(base())
    prod = load(base(), 'prod')
    assert dev.target.name == 'dev' and prod.target.name == 'prod'
    dev_conn = plain(dev.desired[ObjectKey('connection', 'dws')].spec)
    assert dev_conn['dw_config']['host'] == '10.0.0.1'  # top-level default
    assert dev_conn['dw_config']['url'] == 'jdbc:postgresql://10.0.0.1:8000/dw'  # inside text
    prod_conn = plain(prod.desired[ObjectKey('connection', 'dws_prod')].spec)
    assert prod_conn['dw_config']['host'] == '10.9.9.9'  # the target overrides the default
    assert dev.desired[ObjectKey('job', 'daily')].spec['basicConfig']['instanceTimeout'] == 60
    assert prod.desired[ObjectKey('job', 'daily')].spec['basicConfig']['instanceTimeout'] == 120  # an int, not '120'


def test_secret_references_are_left_for_apply() -> None:
    conn = load(base(), 'prod').desired[ObjectKey('connection', 'dws_prod')].spec
    password = conn['dw_config']['password']
    assert isinstance(password, secrets.SecretText) and str(password) == '${secret:env:DWS_PASSWORD}'


def test_variables_of_any_type_and_inside_text() -> None:
    resource = b'type: jar\nlocation: obs://b/app.jar\ndependFiles: ${var:files}\ndesc: strict=${var:strict}\n'
    result = load(base(resources__app_DOT_yaml=resource), 'prod')
    spec = result.desired[ObjectKey('resource', 'app')].spec
    assert spec['dependFiles'] == ['obs://b/a.jar', 'obs://b/b.jar']
    assert spec['desc'] == 'strict=true'


def test_undefined_variable_names_file_line_field_and_the_targets_variables() -> None:
    job = JOB.replace(b'instanceTimeout: ${var:timeout}', b'instanceTimeout: ${var:timout}')
    problems = errors(base(jobs__daily_DOT_yaml=job), 'prod')
    assert len(problems) == 1, problems
    assert "jobs/daily.yaml:3#/basicConfig/instanceTimeout: variable 'timout' is not defined for target 'prod'" \
        in problems[0]
    assert "did you mean 'timeout'?" in problems[0]
    assert 'dws_host, files, strict, timeout' in problems[0]


def test_a_list_variable_cannot_go_inside_text() -> None:
    resource = b'type: jar\nlocation: obs://b/app.jar\ndesc: files ${var:files}\n'
    problems = errors(base(resources__app_DOT_yaml=resource), 'prod')
    assert any('resources/app.yaml:3#/desc' in p and 'list or mapping' in p for p in problems), problems


def test_variables_in_script_content_with_line_of_an_undefined_one() -> None:
    files = base(scripts__s1_DOT_sql=b'-- ${bizdate} is a DataArts parameter\n'
                                     b"select * from t where h = '${var:dws_host}';\n")
    content = load(files, 'prod').desired[ObjectKey('script', 's1')].spec['content']
    assert "h = '10.9.9.9'" in content and '${bizdate}' in content
    files['scripts/s1.sql'] = b'select 1;\nselect ${var:nope};\n'
    problems = errors(files, 'prod')
    assert any(p.startswith("error: scripts/s1.sql:2: variable 'nope' is not defined") for p in problems), problems


def test_unknown_target_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="target 'staging' is not defined"):
        load(base(), 'staging')


def test_invalid_config_stops_before_definitions() -> None:
    files = base(jobsync_DOT_yaml=CONFIG.replace(b'dis_streams', b'kafka_topics'))
    problems = errors(files, 'prod')
    assert len(problems) == 1 and "jobsync.yaml:21#/targets/prod/remap/kafka_topics: unknown field" in problems[0]


# --- remapping ------------------------------------------------------------------------------------


def test_remap_renames_connections_and_cdm_clusters_everywhere() -> None:
    prod = load(base(), 'prod')
    assert set(prod.desired) == {
        ObjectKey('connection', 'dws_prod'), ObjectKey('script', 's1'), ObjectKey('job', 'daily'),
        ObjectKey('cdm-link', 'src', 'cdm-prod-01'), ObjectKey('cdm-job', 'copy', 'cdm-prod-01'),
    }
    conn = prod.desired[ObjectKey('connection', 'dws_prod')].spec
    assert conn['dw_name'] == 'dws_prod' and conn['agent_name'] == 'cdm-prod-01'
    assert prod.desired[ObjectKey('script', 's1')].spec['connectionName'] == 'dws_prod'
    job = prod.desired[ObjectKey('job', 'daily')].spec
    assert props(job, 0)['connectionName'] == 'dws_prod'
    assert props(job, 1) == {'clusterName': 'cdm-prod-01', 'jobName': 'copy'}
    # dev has no remap: git's names
    assert ObjectKey('connection', 'dws') in load(base()).desired


def test_remap_covers_mrs_clusters_dli_queues_and_dis_streams() -> None:
    job = b"""processType: REAL_TIME
schedule: {type: EVENT, event: {eventType: DIS, channel: orders}}
nodes:
  - {name: spark, type: MRSSpark, properties: {clusterName: lake, jobName: j, resourcePath: obs://b/a.jar}}
  - {name: dli, type: DLISpark, properties: {clusterName: etl, jobName: j, resourcePath: obs://b/a.jar}}
"""
    hive = b'dw_type: HIVE\ndw_config: {cluster_name: lake, password: "${secret:env:HIVE}"}\n'
    dli = b'type: DLISQL\nconnectionName: dli\nqueueName: etl\ncontent: select 1\n'
    result = load(base(jobs__stream_DOT_yaml=job, connections__hive_DOT_yaml=hive, scripts__dli_DOT_yaml=dli,
                       connections__dli_DOT_yaml=b'dw_type: DLI\n'), 'prod')
    spec = result.desired[ObjectKey('job', 'stream')].spec
    assert spec['schedule']['event']['channel'] == 'orders-prod'
    assert props(spec, 0)['clusterName'] == 'lake-prod' and props(spec, 1)['clusterName'] == 'etl_prod'
    assert result.desired[ObjectKey('connection', 'hive')].spec['dw_config']['cluster_name'] == 'lake-prod'
    assert result.desired[ObjectKey('script', 'dli')].spec['queueName'] == 'etl_prod'
    assert not result.warnings


def test_a_remap_entry_matching_nothing_is_a_warning_at_its_line() -> None:
    config = CONFIG.replace(b'{orders: orders-prod}', b'{orderz: orders-prod}')
    result = load(base(jobsync_DOT_yaml=config), 'prod')
    assert ('warning: jobsync.yaml:21#/targets/prod/remap/dis_streams/orderz: remap entry dis_streams.orderz matches '
            'nothing in the repo\n  hint: names are matched exactly; check the spelling or remove the entry'
            ) in [str(w) for w in result.warnings]


def test_two_connections_remapped_to_one_name_are_defined_twice() -> None:
    config = CONFIG.replace(b'{dws: dws_prod}', b'{dws: dws_prod, other: dws_prod}')
    problems = errors(base(jobsync_DOT_yaml=config, connections__other_DOT_yaml=CONN), 'prod')
    assert any('connection/dws_prod is defined twice' in p and 'remapping' in p for p in problems), problems


def test_unmapped_missing_connection_names_file_field_and_hint() -> None:
    script = b'type: DWSSQL\nconnectionName: legacy_dw\n'
    problems = errors(base(scripts__s1_DOT_yaml=script), 'prod')
    assert len(problems) == 1, problems
    assert "scripts/s1.yaml:2#/connectionName: connection 'legacy_dw' is not defined in the repo" in problems[0]
    assert 'targets.prod.remap.connections: {legacy_dw: NAME}' in problems[0]
    assert 'validate --online' in problems[0]


def test_a_remapped_name_that_is_not_defined_says_where_it_came_from() -> None:
    config = CONFIG.replace(b'{dws: dws_prod}', b'{shared_dw: dws_prod}')
    script = b'type: DWSSQL\nconnectionName: shared_dw\n'
    problems = errors(base(jobsync_DOT_yaml=config, scripts__s1_DOT_yaml=script), 'prod')
    assert any("connection 'dws_prod' is not defined" in p and "'shared_dw' is remapped to 'dws_prod' by "
               'targets.prod.remap.connections' in p for p in problems), problems


def test_references_present_in_the_workspace_are_accepted_when_given() -> None:
    script = b'type: DWSSQL\nconnectionName: platform_dw\n'
    files = base(scripts__s1_DOT_yaml=script)
    assert errors(files, 'prod')
    result = load(files, 'prod', present={ObjectKey('connection', 'platform_dw')})
    assert result.desired[ObjectKey('script', 's1')].spec['connectionName'] == 'platform_dw'
    problems = errors(files, 'prod', present={ObjectKey('connection', 'other')})
    assert any('is not defined in the repo nor in the workspace' in p for p in problems), problems


# --- time zones -----------------------------------------------------------------------------------


def test_target_time_zone_fills_schedules_that_set_none() -> None:
    stream = b"""processType: REAL_TIME
schedule: {type: EXECUTE_ONCE}
nodes:
  - name: tick
    type: Dummy
    cronTrigger: {startTime: '2025-01-01T00:00:00+08', expression: '0 */10 * * * ?', period: 10 minutes}
  - name: tock
    type: Dummy
    cronTrigger: {startTime: '2025-01-01T00:00:00+08', expression: '0 */10 * * * ?', period: 10 minutes,
                  expressionTimeZone: GMT+1}
"""
    own = JOB.replace(b'expression: 0 0 2 * * ?', b'expression: 0 0 2 * * ?\n    expressionTimeZone: GMT+8')
    files = base(jobs__stream_DOT_yaml=stream, jobs__own_DOT_yaml=own)
    prod = load(files, 'prod').desired
    assert prod[ObjectKey('job', 'daily')].spec['schedule']['cron']['expressionTimeZone'] == 'Asia/Shanghai'
    assert prod[ObjectKey('job', 'own')].spec['schedule']['cron']['expressionTimeZone'] == 'GMT+8'
    nodes = prod[ObjectKey('job', 'stream')].spec['nodes']
    assert [n['cronTrigger']['expressionTimeZone'] for n in nodes] == ['Asia/Shanghai', 'GMT+1']
    assert 'schedule' not in prod[ObjectKey('job', 'stream')].spec or \
        'cron' not in prod[ObjectKey('job', 'stream')].spec['schedule']
    dev = load(files).desired  # no time zone on dev: left unset
    assert 'expressionTimeZone' not in dev[ObjectKey('job', 'daily')].spec['schedule']['cron']


# --- scope ----------------------------------------------------------------------------------------

SCOPED = CONFIG + b"""  team_a:
    workspace: local:.jobsync/shared.db
    scope:
      directories: [/team_a/]
      prefixes: [team_a_]
"""


def test_definitions_outside_the_target_scope_are_errors() -> None:
    job = (b'processType: BATCH\ndirectory: /team_b/etl\nschedule: {type: EXECUTE_ONCE}\n'
           b'nodes: [{name: a, type: Dummy}]\n')
    files = {'jobsync.yaml': SCOPED, 'jobs/team_a_daily.yaml': job,
             'jobs/daily.yaml': job.replace(b'team_b', b'team_a')}
    problems = errors(files, 'team_a')
    assert problems == [
        "error: jobs/team_a_daily.yaml:2#/directory: job/team_a_daily is outside the scope of target 'team_a': "
        "its directory '/team_b/etl' is not under '/team_a/'\n"
        '  hint: targets.team_a.scope owns directories /team_a/ and name prefixes team_a_: move the object inside '
        'it, or apply it with a target whose scope holds it',
        "error: jobs/daily.yaml:1: job/daily is outside the scope of target 'team_a': its name does not start with "
        "'team_a_'\n"
        '  hint: targets.team_a.scope owns directories /team_a/ and name prefixes team_a_: move the object inside '
        'it, or apply it with a target whose scope holds it',
    ]
    files = {'jobsync.yaml': SCOPED, 'jobs/team_a_daily.yaml': job.replace(b'team_b', b'team_a')}
    assert list(load(files, 'team_a').desired) == [ObjectKey('job', 'team_a_daily')]


def test_remap_rewrites_a_console_export_in_api_form() -> None:
    exported = (b'{"name": "legacy", "processType": "BATCH", "schedule": {"type": "EXECUTE_ONCE"}, "nodes": ['
                b'{"name": "n", "type": "DWSSQL", "properties": [{"name": "scriptName", "value": "s1"}, '
                b'{"name": "connectionName", "value": "dws", "value_is_sensitive": false}]}]}')
    spec = load(base(jobs__legacy_DOT_job=exported), 'prod').desired[ObjectKey('job', 'legacy')].spec
    assert spec['nodes'][0]['properties'][1] == {'name': 'connectionName', 'value': 'dws_prod',
                                                 'value_is_sensitive': False}


def test_a_reference_to_a_broken_definition_is_not_reported_twice() -> None:
    job = JOB.replace(b'instanceTimeout: ${var:timeout}', b'instanceTimeout: ${var:nope}')
    downstream = (b'processType: BATCH\nschedule: {type: CRON, cron: {startTime: "2025-01-01T00:00:00+08", '
                  b'expression: "0 0 3 * * ?", dependJobs: {jobs: [daily]}}}\nnodes: [{name: a, type: Dummy}]\n')
    problems = errors(base(jobs__daily_DOT_yaml=job, jobs__later_DOT_yaml=downstream), 'prod')
    assert len(problems) == 1 and "variable 'nope'" in problems[0], problems


def test_a_variable_may_build_a_secret_reference() -> None:
    config = CONFIG.replace(b'      strict: true\n', b'      strict: true\n      env: PROD\n')
    conn = CONN.replace(b'${secret:env:DWS_PASSWORD}', b'${secret:env:${var:env}_DWS_PASSWORD}')
    spec = load(base(jobsync_DOT_yaml=config, connections__dws_DOT_yaml=conn), 'prod').desired[
        ObjectKey('connection', 'dws_prod')].spec
    password = spec['dw_config']['password']
    assert isinstance(password, secrets.SecretText) and str(password) == '${secret:env:PROD_DWS_PASSWORD}'
