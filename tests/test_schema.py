"""schemas/*.json and jobsync/schema.py: the example repo validates, mistakes are caught where they are."""

from __future__ import annotations

import copy
import datetime
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from jobsync import codec, schema, templates
from jobsync.model import KINDS, SourceRef

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / 'examples' / 'repo'
SCHEMAS = ROOT / 'schemas'
SIDECARS = ('.sql', '.sh', '.py')


# --------------------------------------------------------------------------------------------------
# The example repo


def _kind_of(rel: Path) -> str | None:
    """The schema a file of the example repo is checked against; None for README, sidecars, etc."""
    parts = rel.parts
    if parts == ('jobsync.yaml',):
        return 'config'
    if rel.stem.endswith('.template'):
        return 'template'
    if rel.suffix not in ('.yaml', '.yml', '.json', '.job', '.script'):
        return None
    if parts[0] == 'cdm' and len(parts) == 4:
        return {'links': 'cdm-link', 'jobs': 'cdm-job'}[parts[2]]
    return {'connections': 'connection', 'resources': 'resource', 'scripts': 'script', 'jobs': 'job'}[parts[0]]


def _example_files() -> Iterator[tuple[Path, str]]:
    for path in sorted(EXAMPLE.rglob('*')):
        if path.is_file():
            kind = _kind_of(path.relative_to(EXAMPLE))
            if kind is not None:
                yield path, kind


def _load(path: Path) -> Any:
    # JSON is YAML; the loader in jobsync reads .job/.json as JSON, which gives the same values here.
    return yaml.safe_load(path.read_text(encoding='utf-8'))


EXAMPLES = list(_example_files())


def _kind_of_template(rel: Path) -> str:
    """The kind a template generates: that of the folder it sits in."""
    return _kind_of(rel.with_name('x.yaml')) or ''


def _example_definitions() -> Iterator[tuple[Path, str, str, dict[str, Any]]]:
    """(path, kind, name, document) of every definition, templates expanded into what they generate."""
    for path, kind in EXAMPLES:
        if kind == 'template':
            instances, problems = templates.expand(_load(path))
            assert problems == []
            for instance in instances:
                yield path, _kind_of_template(path.relative_to(EXAMPLE)), instance.name, instance.data
        elif kind != 'config':
            yield path, kind, path.stem, _load(path)


DEFINITIONS = list(_example_definitions())


def test_example_repo_uses_every_kind() -> None:
    assert {kind for _, kind in EXAMPLES} == {*KINDS, 'config', 'template'}


def test_example_template_generates_valid_definitions() -> None:
    generated = [(path, kind, name, doc) for path, kind, name, doc in DEFINITIONS if path.stem.endswith('.template')]
    assert generated
    for _, kind, _, doc in generated:
        assert schema.validate(kind, doc) == []  # type: ignore[arg-type]
        assert schema.validate(kind, codec.from_repo(kind, doc)) == []  # type: ignore[arg-type]


def test_every_example_file_is_a_definition_a_sidecar_or_docs() -> None:
    """A stray file would escape the validation below without anyone noticing. Files git ignores
    (the `.jobsync/` workspace the README's first command leaves there) are not the example's."""
    listed = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard', '-z'], cwd=EXAMPLE,
                            capture_output=True, check=True).stdout.decode('utf-8').split('\0')
    for name in filter(None, listed):
        path = EXAMPLE / name
        rel = path.relative_to(EXAMPLE)
        if path.is_dir() or not path.exists() or rel.name in ('README.md', '.gitignore'):
            continue
        assert _kind_of(rel) is not None or (rel.parts[0] == 'scripts' and rel.suffix in SIDECARS), rel


@pytest.mark.parametrize(('path', 'kind'), EXAMPLES, ids=[str(p.relative_to(EXAMPLE)) for p, _ in EXAMPLES])
def test_example_validates(path: Path, kind: str) -> None:
    assert schema.validate(kind, _load(path)) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(('path', 'kind'), [(p, k) for p, k in EXAMPLES if k not in ('config', 'template')],
                         ids=[str(p.relative_to(EXAMPLE)) for p, k in EXAMPLES if k not in ('config', 'template')])
def test_example_in_api_form_validates_too(path: Path, kind: str) -> None:
    """The schemas accept the API form the codec produces (what an export from the service looks like)."""
    doc = _load(path)
    content = None
    if kind == 'script':
        content = path.with_suffix(codec.sidecar_suffix(doc['type'])).read_text(encoding='utf-8')
    api = codec.from_repo(kind, doc, content)  # type: ignore[arg-type]
    assert schema.validate(kind, api) == []  # type: ignore[arg-type]


def test_example_scripts_have_their_sidecar() -> None:
    for path, kind in EXAMPLES:
        if kind == 'script':
            sidecar = path.with_suffix(codec.sidecar_suffix(_load(path)['type']))
            assert sidecar.is_file(), f'{path.name} has no {sidecar.name}'
            assert 'content' not in _load(path), 'repo-form scripts keep their content in the sidecar'


def test_example_references_resolve() -> None:
    """The living example must be coherent: every name a document uses is defined in the repo."""
    names: dict[str, set[str]] = {}
    for path, kind, name, _ in DEFINITIONS:
        cluster = path.parts[-3] if kind.startswith('cdm-') else ''
        names.setdefault(kind, set()).add(f'{cluster}/{name}' if cluster else name)
    seen: dict[str, set[str]] = {}

    def expect(kind: str, name: str, where: str) -> None:
        seen.setdefault(kind, set()).add(name)
        assert name in names[kind], f'{where}: {kind}/{name} is not defined in the example repo'

    for path, kind, _, doc in DEFINITIONS:
        where = str(path.relative_to(EXAMPLE))
        if kind == 'script':
            expect('connection', doc['connectionName'], where)
        elif kind == 'cdm-job':
            cluster = path.parts[-3]
            expect('cdm-link', f'{cluster}/{doc["from-link-name"]}', where)
            expect('cdm-link', f'{cluster}/{doc["to-link-name"]}', where)
        elif kind == 'job':
            for dep in doc['schedule'].get('cron', {}).get('dependJobs', {}).get('jobs', []):
                expect('job', dep, where)
            nodes = {n['name'] for n in doc['nodes']}
            for node in doc['nodes']:
                assert set(node.get('preNodeName', [])) <= nodes, where
                props = node['properties']
                if isinstance(props, list):  # API form, as in an exported .job
                    props = {prop['name']: prop['value'] for prop in props}
                if 'scriptName' in props:
                    expect('script', props['scriptName'], where)
                if 'connectionName' in props:
                    expect('connection', props['connectionName'], where)
                if node['type'] == 'CDMJob':
                    expect('cdm-job', f'{props["clusterName"]}/{props["jobName"]}', where)
                if node['type'] == 'MRSSpark' and not props['resourcePath'].startswith('obs://'):
                    expect('resource', props['resourcePath'], where)
    # Everything defined is used by something (the example shows how objects connect).
    for kind in ('connection', 'script', 'resource', 'cdm-job', 'cdm-link'):
        unused = names[kind] - seen.get(kind, set())
        # rds_mysql shows a MySQL data connection; the CDM link reaches the same database itself.
        allowed = {'rds_mysql'} if kind == 'connection' else set()
        assert unused <= allowed, (kind, unused)


def test_example_cdm_jobs_use_two_groups() -> None:
    groups = {
        name: doc['driver-config-values']['configs']['groupJobConfig']['groupJobConfig.groupName']
        for _, kind, name, doc in DEFINITIONS if kind == 'cdm-job'
    }
    assert len(groups) >= 3 and len(set(groups.values())) == 2


def test_example_exported_job_is_in_api_form() -> None:
    exported = [p for p, k in EXAMPLES if k == 'job' and p.suffix == '.job']
    assert exported
    for path in exported:
        doc = json.loads(path.read_text(encoding='utf-8'))
        assert all(isinstance(node['properties'], list) for node in doc['nodes'])
        assert {'resouces', 'maskedParams', 'location'} <= set(doc)


# --------------------------------------------------------------------------------------------------
# Minimal valid documents, one per schema; the tables below change one thing at a time.


def _min_job() -> dict[str, Any]:
    return {
        'processType': 'BATCH',
        'schedule': {'type': 'CRON', 'cron': {'startTime': '2025-01-01T00:00:00+08', 'expression': '0 0 2 * * ?',
                                              'dependJobs': {'jobs': []}}},
        'nodes': [{'name': 'load', 'type': 'DWSSQL', 'properties': {'scriptName': 'dws_sql'}}],
    }


def _chinese_job() -> dict[str, Any]:
    job = _min_job()
    job['name'] = '每日_销售.v2'
    job['nodes'][0]['name'] = '加载-1'
    return job


MIN_SCRIPT: dict[str, Any] = {'type': 'DWSSQL', 'connectionName': 'doctest'}
MIN_RESOURCE: dict[str, Any] = {'type': 'jar', 'location': 'obs://bucket/etl.jar'}
MIN_CONNECTION: dict[str, Any] = {'dw_type': 'DWS', 'dw_config': {'password': '${secret:env:DWS_PASSWORD}'}}
MIN_LINK: dict[str, Any] = {'connector-name': 'generic-jdbc-connector',
                            'link-config-values': {'configs': {'linkConfig': {'linkConfig.host': 'db'}}}}
MIN_CDM_JOB: dict[str, Any] = {'from-connector-name': 'generic-jdbc-connector', 'from-link-name': 'mysql_src',
                               'to-connector-name': 'generic-jdbc-connector', 'to-link-name': 'dws_dst'}
MIN_CONFIG: dict[str, Any] = {'default_target': 'local',
                              'targets': {'local': {'workspace': 'local:.jobsync/workspace.db'}}}
MINIMAL: dict[str, Callable[[], dict[str, Any]]] = {
    'job': _min_job, 'script': lambda: copy.deepcopy(MIN_SCRIPT), 'resource': lambda: copy.deepcopy(MIN_RESOURCE),
    'connection': lambda: copy.deepcopy(MIN_CONNECTION), 'cdm-link': lambda: copy.deepcopy(MIN_LINK),
    'cdm-job': lambda: copy.deepcopy(MIN_CDM_JOB), 'config': lambda: copy.deepcopy(MIN_CONFIG),
}


@pytest.mark.parametrize('kind', sorted(MINIMAL))
def test_minimal_documents_validate(kind: str) -> None:
    """The base of every rejection case below is itself valid, so each case tests exactly one change."""
    assert schema.validate(kind, MINIMAL[kind]()) == []  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# Documents accepted as the service writes them


# Reference §4.8: a real console-exported .job, with every extra field the console adds.
CONSOLE_JOB: dict[str, Any] = {
    'name': 'my_job', 'directory': '/etl', 'processType': 'BATCH', 'version': '2',
    'basicConfig': {'agency': '', 'customFields': {}, 'encrypt': False, 'executeUser': '', 'instanceTimeout': 0,
                    'isIgnoreWaiting': 0, 'jobDescription': '', 'owner': 'alice', 'priority': 0, 'tags': [],
                    'taskPriority': 0},
    'cleanOverdueDays': 60, 'cleanWaitingJob': 'cleanup', 'emptyRunningJob': '0', 'lastUpdateUser': 'alice',
    'location': {'x': '705', 'y': '636'}, 'maskedParams': [], 'resouces': [], 'runAtOnceAfterIncubate': '0',
    'singleNodeJobFlag': False, 'taskWorkGroupId': '', 'useCdmCache': False,
    'nodes': [{'name': 'py', 'type': 'Python', 'location': {'x': '-207.0', 'y': '-253.0'}, 'preNodeName': [],
               'execTimeOutRetry': 'false', 'failPolicy': 'FAIL_CHILD', 'maxExecutionTime': 360,
               'pollingInterval': 20, 'retryInterval': 120, 'retryTimes': 0, 'resouces': [],
               'properties': [{'name': 'scriptName', 'value': 'etl_main', 'value_is_sensitive': False},
                              {'name': 'connectionName', 'value': 'python_or_shell', 'value_is_sensitive': False}]}],
    'schedule': {'type': 'CRON', 'requireManualConfirmBeforeExecute': False, 'scheduleOffset': 1,
                 'cron': {'calendarScheduling': 'false', 'concurrent': 1, 'dependPrePeriod': False,
                          'dependJobs': {'dependFailPolicy': 'FAIL', 'dependPeriod': 'SAME_PERIOD', 'jobs': [],
                                         'sameWorkSpaceJobs': []},
                          'expression': '0 20 1 * * ?', 'expressionTimeZone': 'Asia/Shanghai',
                          'intervalType': 'days', 'isSkipSelfDepJob': 'false', 'monitorObsPath': False,
                          'scanDuration': 0, 'scanInterval': 0, 'startTime': '2026-04-24T01:20:00+08'}}}

# Reference §4.3: the documented create-job body (integer-free locations, the docs' instanceTimeout 0).
DOCS_CREATE_JOB: dict[str, Any] = {
    'name': 'myJob', 'directory': '/myDir', 'processType': 'BATCH', 'logPath': 'obs://dlf-test-log',
    'basicConfig': {'owner': 'test_user', 'priority': 0, 'executeUser': '', 'instanceTimeout': 0, 'customFields': {}},
    'params': [{'name': 'bizdate', 'value': "#{DateUtil.format(Job.planTime,'yyyyMMdd')}", 'type': 'variable'}],
    'schedule': {'type': 'CRON', 'cron': {
        'startTime': '2025-01-01T00:00:00+08', 'expression': '0 0 2 * * ?', 'expressionTimeZone': 'GMT+8',
        'dependPrePeriod': False,
        'dependJobs': {'jobs': [], 'dependPeriod': 'SAME_PERIOD', 'dependFailPolicy': 'FAIL'}}},
    'nodes': [
        {'name': 'load', 'type': 'CDMJob', 'location': {'x': '10', 'y': '10'}, 'preNodeName': [],
         'properties': [{'name': 'clusterName', 'value': 'cdm-prod'}, {'name': 'jobName', 'value': 'mysql2dws'}],
         'pollingInterval': 20, 'maxExecutionTime': 360, 'retryTimes': 0, 'retryInterval': 120,
         'failPolicy': 'FAIL_CHILD'},
        {'name': 'MRS_Hive_SQL', 'type': 'HiveSQL', 'location': {'x': -45.5, 'y': -134.5}, 'preNodeName': ['load'],
         'properties': [{'name': 'scriptName', 'value': 'test_hive_sql'}], 'pollingInterval': 20,
         'maxExecutionTime': 360, 'retryTimes': 0, 'retryInterval': 120, 'failPolicy': 'FAIL_CHILD'}]}

# Reference §9.4: the documented create-CDM-job body, including `"inputs": {}` for empty configs.
DOCS_CDM_JOB: dict[str, Any] = {
    'name': 'es_css', 'job_type': 'NORMAL_JOB',
    'from-connector-name': 'elasticsearch-connector', 'from-link-name': 'css',
    'to-connector-name': 'dis-connector', 'to-link-name': 'dis',
    'from-config-values': {'configs': [{'name': 'fromJobConfig', 'inputs': [
        {'name': 'fromJobConfig.index', 'value': '52est'}, {'name': 'fromJobConfig.type', 'value': 'est_array'}]}]},
    'to-config-values': {'configs': [{'name': 'toJobConfig', 'inputs': [
        {'name': 'toJobConfig.streamName', 'value': 'dis-lkGm'}]}]},
    'driver-config-values': {'configs': [
        {'name': 'throttlingConfig', 'inputs': [{'name': 'throttlingConfig.numExtractors', 'value': '1'}]},
        {'name': 'jarConfig', 'inputs': {}},
        {'name': 'groupJobConfig', 'inputs': [{'name': 'groupJobConfig.groupName', 'value': 'DEFAULT'}]}]}}

# Reference §9.3: a link as GET returns it (typed inputs, integer value, server fields).
DOCS_CDM_LINK: dict[str, Any] = {
    'name': 'sftp_link', 'connector-name': 'sftp-connector', 'enabled': True,
    'creation-user': 'cdm', 'creation-date': 1516674482640, 'update-user': 'cdm', 'update-date': 1516674476022,
    'link-config-values': {'configs': [{'name': 'linkConfig', 'inputs': [
        {'name': 'linkConfig.server', 'type': 'STRING', 'value': '100.94.8.163'},
        {'name': 'linkConfig.port', 'type': 'INTEGER', 'value': 22},
        {'name': 'linkConfig.password', 'type': 'STRING', 'value': 'Add password here'}]}]}}


@pytest.mark.parametrize(
    ('kind', 'doc'),
    (
        pytest.param('job', CONSOLE_JOB, id='console-exported-job'),
        pytest.param('job', DOCS_CREATE_JOB, id='docs-create-job'),
        pytest.param('cdm-job', DOCS_CDM_JOB, id='docs-cdm-job-with-empty-inputs-object'),
        pytest.param('cdm-link', DOCS_CDM_LINK, id='docs-cdm-link-get-response'),
        pytest.param('script', {'name': 'mrs_spark_sql', 'type': 'SparkSQL', 'content': 'SELECT 1;',
                                'connectionName': 'mrs_spark', 'database': 'aaa', 'configuration': {},
                                'description': '', 'directory': '/'}, id='docs-script-show-response'),
        pytest.param('resource', {'name': 'test', 'type': 'jar', 'location': 'obs://dlf-test/x.jar',
                                  'dependFiles': ['obs://dlf-test/depend1.jar'], 'desc': 'test',
                                  'directory': '/resource'}, id='docs-resource-create'),
        pytest.param('connection', {'dw_name': 'dli_conn', 'dw_type': 'DLI',
                                    'dw_config': {'cdm_property_enable': 'false'}, 'env_type': 0},
                     id='docs-connection-create'),
        pytest.param('job', _chinese_job(), id='chinese-job-and-node-names'),
        pytest.param('job', {**_min_job(), 'basicConfig': {'instanceTimeout': 5}}, id='instance-timeout-5'),
        pytest.param('job', {**_min_job(), 'basicConfig': {'instanceTimeout': 1440}}, id='instance-timeout-1440'),
        pytest.param('script', {**MIN_SCRIPT, 'name': 'dws_sql'}, id='script-name-with-underscore'),
        pytest.param('script', {'type': 'FlinkSQL'}, id='flinksql-script-needs-no-connection'),
        pytest.param('config', {'targets': {'local': {'workspace': 'dataarts'}}}, id='config-minimal'),
    ),
)
def test_service_documents_validate(kind: str, doc: Any) -> None:
    assert schema.validate(kind, doc) == []  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# Mistakes are rejected, each at the pointer of the offending value, with words a person understands

_DELETE = object()


def _with(kind: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A minimal valid document of `kind` with values set (or deleted) at JSON pointers."""
    doc = MINIMAL[kind]()
    for pointer, value in changes.items():
        *parents, last = [part.replace('~1', '/').replace('~0', '~') for part in pointer.split('/')[1:]]
        target: Any = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
        if value is _DELETE:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return doc


def case(case_id: str, kind: str, changes: dict[str, Any], pointer: str, message: str, hint: str = '') -> Any:
    return pytest.param(kind, changes, pointer, message, hint, id=case_id)


REJECTED = (
    # names: charset and length, per kind (reference §4.2, §5, §6, §7, §9.4, §10)
    case('job-name-charset', 'job', {'/name': 'daily sales!'}, '/name',
         "'daily sales!' is not a valid name: may contain only letters, digits, '_', '-', '.' and Chinese"),
    case('job-name-too-long', 'job', {'/name': 'j' * 129}, '/name', 'name is 129 characters long; at most 128'),
    case('job-name-empty', 'job', {'/name': ''}, '/name', 'name must not be empty'),
    case('node-name-charset', 'job', {'/nodes/0/name': 'load orders'}, '/nodes/0/name', 'may contain only'),
    case('node-name-too-long', 'job', {'/nodes/0/name': 'n' * 129}, '/nodes/0/name', 'at most 128'),
    case('script-name-charset', 'script', {'/name': 'dws/sql'}, '/name', "'dws/sql' is not a valid name"),
    case('script-name-too-long', 'script', {'/name': 's' * 129}, '/name', 'at most 128'),
    case('resource-name-no-dot', 'resource', {'/name': 'spark.etl'}, '/name',
         "may contain only letters, digits, '_' and '-'"),
    case('resource-name-too-long', 'resource', {'/name': 'r' * 33}, '/name', 'name is 33 characters long; at most 32'),
    case('connection-name-charset', 'connection', {'/dw_name': 'dws.prod'}, '/dw_name', 'may contain only'),
    case('connection-name-too-long', 'connection', {'/dw_name': 'c' * 101}, '/dw_name', 'at most 100'),
    case('cdm-job-name-too-long', 'cdm-job', {'/name': 'c' * 241}, '/name', 'at most 240'),
    case('cdm-job-name-empty', 'cdm-job', {'/name': ''}, '/name', 'must not be empty'),
    case('param-name-charset', 'job', {'/params': [{'name': 'biz.date', 'value': '1'}]}, '/params/0/name',
         'may contain only'),
    case('param-name-too-long', 'job', {'/params': [{'name': 'p' * 65, 'value': '1'}]}, '/params/0/name',
         'at most 64'),
    case('param-value-too-long', 'job', {'/params': [{'name': 'p', 'value': 'v' * 1025}]}, '/params/0/value',
         'at most 1024'),
    case('job-description-too-long', 'job', {'/description': 'd' * 256}, '/description', 'at most 255'),
    case('script-description-too-long', 'script', {'/description': 'd' * 256}, '/description', 'at most 255'),
    case('resource-desc-too-long', 'resource', {'/desc': 'd' * 256}, '/desc', 'at most 255'),
    case('connection-description-too-long', 'connection', {'/description': 'd' * 256}, '/description',
         'at most 255'),
    # unknown fields: named, pointed at, with the closest known field
    case('unknown-top-level-field', 'job', {'/shedule': {}}, '/shedule', "unknown field 'shedule'",
         "did you mean 'schedule'?"),
    case('unknown-basic-config-field', 'job', {'/basicConfig/prority': 1}, '/basicConfig/prority',
         "unknown field 'prority'", "did you mean 'priority'?"),
    case('unknown-node-field', 'job', {'/nodes/0/retryTime': 1}, '/nodes/0/retryTime', "unknown field 'retryTime'",
         "did you mean 'retryTimes'?"),
    case('unknown-schedule-field', 'job', {'/schedule/crons': {}}, '/schedule/crons', "unknown field 'crons'",
         "did you mean 'cron'?"),
    case('unknown-cron-field', 'job', {'/schedule/cron/expresion': '0 0 2 * * ?'}, '/schedule/cron/expresion',
         "unknown field 'expresion'", "did you mean 'expression'?"),
    case('unknown-depend-jobs-field', 'job', {'/schedule/cron/dependJobs/job': []},
         '/schedule/cron/dependJobs/job', "unknown field 'job'", "did you mean 'jobs'?"),
    case('unknown-api-form-property-field', 'job',
         {'/nodes/0/properties': [{'name': 'scriptName', 'value': 'x', 'value_is_sensitve': False}]},
         '/nodes/0/properties/0/value_is_sensitve', "unknown field 'value_is_sensitve'",
         "did you mean 'value_is_sensitive'?"),
    case('unknown-script-field', 'script', {'/conectionName': 'x'}, '/conectionName', "unknown field",
         "did you mean 'connectionName'?"),
    case('unknown-resource-field', 'resource', {'/dependFile': []}, '/dependFile', 'unknown field',
         "did you mean 'dependFiles'?"),
    case('unknown-connection-field', 'connection', {'/dw_confg': {}}, '/dw_confg', 'unknown field',
         "did you mean 'dw_config'?"),
    case('unknown-cdm-link-field', 'cdm-link', {'/conector-name': 'x'}, '/conector-name', 'unknown field',
         "did you mean 'connector-name'?"),
    case('unknown-cdm-job-field', 'cdm-job', {'/driver-config-value': {}}, '/driver-config-value', 'unknown field',
         "did you mean 'driver-config-values'?"),
    case('unknown-target-field', 'config', {'/targets/local/workspce': 'dataarts'}, '/targets/local/workspce',
         'unknown field', "did you mean 'workspace'?"),
    case('unknown-field-without-near-match-lists-known', 'config', {'/targets/local/zzz': 1},
         '/targets/local/zzz', "unknown field 'zzz'", 'known fields here: batch, dataarts, description, '),
    case('unknown-field-pointer-is-escaped', 'job', {'/a~1b~0c': 1}, '/a~1b~0c', "unknown field 'a/b~c'"),
    # enums: the allowed values are listed
    case('bad-process-type', 'job', {'/processType': 'batch'}, '/processType',
         "processType 'batch' is not one of: 'BATCH', 'REAL_TIME'", "did you mean 'BATCH'?"),
    case('bad-fail-policy', 'job', {'/nodes/0/failPolicy': 'RETRY'}, '/nodes/0/failPolicy',
         "'FAIL', 'IGNORE', 'SUSPEND', 'FAIL_CHILD'"),
    case('bad-schedule-type', 'job', {'/schedule/type': 'DAILY'}, '/schedule/type',
         "'EXECUTE_ONCE', 'CRON', 'EVENT'"),
    case('bad-depend-period', 'job', {'/schedule/cron/dependJobs/dependPeriod': 'LAST'},
         '/schedule/cron/dependJobs/dependPeriod', "'SAME_PERIOD', 'PRE_PERIOD'"),
    case('bad-event-type', 'job', {'/schedule': {'type': 'EVENT', 'event': {'eventType': 'MQ', 'channel': 'c'}}},
         '/schedule/event/eventType', "'KAFKA', 'DIS', 'OBS'"),
    case('bad-exec-timeout-retry-bool', 'job', {'/nodes/0/execTimeOutRetry': False}, '/nodes/0/execTimeOutRetry',
         'execTimeOutRetry must be a string, not the boolean false', 'put it in quotes'),
    case('bad-script-type', 'script', {'/type': 'MySQL'}, '/type', "'FlinkSQL', 'DLISQL'"),
    case('bad-resource-type', 'resource', {'/type': 'zip'}, '/type', "'archive', 'file', 'jar', 'pyFile'"),
    case('bad-cdm-job-type', 'cdm-job', {'/job_type': 'FULL_JOB'}, '/job_type',
         "'NORMAL_JOB', 'BATCH_JOB', 'SCENARIO_JOB'"),
    case('bad-env-type', 'connection', {'/env_type': 2}, '/env_type', 'env_type 2 is not one of: 0, 1'),
    # [SDK] ApigDataSourceVo.support_service: int, a bit mask (issue 11); not a list of services
    case('support-service-a-list', 'connection', {'/supportService': [1, 4]}, '/supportService',
         'supportService must be an integer, not a list'),
    # ranges (reference §4.2, §10)
    case('retry-times-above-5', 'job', {'/nodes/0/retryTimes': 6}, '/nodes/0/retryTimes',
         'retryTimes 6 is out of range: must be between 0 and 5'),
    case('retry-times-negative', 'job', {'/nodes/0/retryTimes': -1}, '/nodes/0/retryTimes', 'between 0 and 5'),
    case('retry-times-quoted', 'job', {'/nodes/0/retryTimes': '3'}, '/nodes/0/retryTimes',
         "retryTimes must be an integer, not the string '3'", 'remove the quotes'),
    case('polling-interval-0', 'job', {'/nodes/0/pollingInterval': 0}, '/nodes/0/pollingInterval',
         'between 1 and 60'),
    case('polling-interval-61', 'job', {'/nodes/0/pollingInterval': 61}, '/nodes/0/pollingInterval',
         'between 1 and 60'),
    case('max-execution-time-4', 'job', {'/nodes/0/maxExecutionTime': 4}, '/nodes/0/maxExecutionTime',
         'between 5 and 1440'),
    case('max-execution-time-1441', 'job', {'/nodes/0/maxExecutionTime': 1441}, '/nodes/0/maxExecutionTime',
         'between 5 and 1440'),
    case('retry-interval-4', 'job', {'/nodes/0/retryInterval': 4}, '/nodes/0/retryInterval', 'between 5 and 120'),
    case('retry-interval-121', 'job', {'/nodes/0/retryInterval': 121}, '/nodes/0/retryInterval',
         'between 5 and 120'),
    case('priority-3', 'job', {'/basicConfig': {'priority': 3}}, '/basicConfig/priority', 'between 0 and 2'),
    case('instance-timeout-3', 'job', {'/basicConfig': {'instanceTimeout': 3}}, '/basicConfig/instanceTimeout',
         'instanceTimeout 3: must be 0 or between 5 and 1440'),
    case('instance-timeout-1441', 'job', {'/basicConfig': {'instanceTimeout': 1441}},
         '/basicConfig/instanceTimeout', 'must be 0 or between 5 and 1440'),
    case('event-concurrent-129', 'job',
         {'/schedule': {'type': 'EVENT', 'event': {'eventType': 'DIS', 'channel': 'c', 'concurrent': 129}}},
         '/schedule/event/concurrent', 'between 1 and 128'),
    # cron (reference §4.2 Cron)
    case('cron-nonzero-seconds', 'job', {'/schedule/cron/expression': '5 0 2 * * ?'}, '/schedule/cron/expression',
         "'5 0 2 * * ?' is not a valid expression: must have 6 space-separated fields"),
    case('cron-five-fields', 'job', {'/schedule/cron/expression': '0 2 * * ?'}, '/schedule/cron/expression',
         "with second '0' and month '*'"),
    case('cron-month-not-star', 'job', {'/schedule/cron/expression': '0 0 2 1 1 ?'}, '/schedule/cron/expression',
         "month '*'"),
    case('node-cron-trigger-nonzero-seconds', 'job',
         {'/nodes/0/cronTrigger': {'startTime': '2025-01-01T00:00:00+08', 'expression': '30 */10 * * * ?',
                                   'period': '10 minutes'}},
         '/nodes/0/cronTrigger/expression', 'must have 6 space-separated fields'),
    case('cron-start-time-format', 'job', {'/schedule/cron/startTime': '2025/01/01 00:00'},
         '/schedule/cron/startTime', "must be a time like '2025-01-01T00:00:00+08'"),
    # required fields, including those another field's value demands
    case('job-without-nodes', 'job', {'/nodes': _DELETE}, '', "missing required field 'nodes'"),
    case('job-with-no-node', 'job', {'/nodes': []}, '/nodes', 'nodes must have at least 1 item'),
    case('cron-schedule-without-cron', 'job', {'/schedule/cron': _DELETE}, '/schedule',
         "missing required field 'cron'", 'a CRON schedule needs its cron block'),
    case('cron-without-expression', 'job', {'/schedule/cron/expression': _DELETE}, '/schedule/cron',
         "missing required field 'expression'"),
    case('node-without-type', 'job', {'/nodes/0/type': _DELETE}, '/nodes/0', "missing required field 'type'"),
    case('sql-script-without-connection', 'script', {'/connectionName': _DELETE}, '',
         "missing required field 'connectionName'", 'every script type but FlinkSQL'),
    case('resource-not-on-obs', 'resource', {'/location': 's3://bucket/etl.jar'}, '/location',
         'must be an OBS path'),
    # repo-form maps: a value YAML turned into something else is pointed at exactly
    case('node-property-not-a-string', 'job', {'/nodes/0/properties/database': 5432},
         '/nodes/0/properties/database', 'database must be a string, not the integer 5432', 'put it in quotes'),
    case('node-properties-wrong-shape', 'job', {'/nodes/0/properties': 'scriptName=x'}, '/nodes/0/properties',
         'properties must be a mapping or a list'),
    case('cdm-input-empty', 'cdm-link', {'/link-config-values/configs/linkConfig/linkConfig.port': None},
         '/link-config-values/configs/linkConfig/linkConfig.port', 'not empty (null)', 'fill it in'),
    case('cdm-configs-wrong-shape', 'cdm-job', {'/driver-config-values': {'configs': 'x'}},
         '/driver-config-values/configs', 'configs must be a mapping or a list'),
    case('cdm-api-input-without-name', 'cdm-job',
         {'/from-config-values': {'configs': [{'name': 'fromJobConfig', 'inputs': [{'value': 'x'}]}]}},
         '/from-config-values/configs/0/inputs/0', "missing required field 'name'"),
    case('yaml-timestamp-start-time', 'job', {'/schedule/cron/startTime': datetime.datetime(2025, 1, 1)},
         '/schedule/cron/startTime', 'startTime must be a string, not a date/time', 'put it in quotes'),
    # jobsync.yaml
    case('config-max-objects-101', 'config', {'/targets/local/batch': {'max_objects': 101}},
         '/targets/local/batch/max_objects', 'max_objects 101 is out of range: must be between 1 and 100'),
    case('config-max-objects-0', 'config', {'/targets/local/batch': {'max_objects': 0}},
         '/targets/local/batch/max_objects', 'between 1 and 100'),
    case('config-max-bytes-above-1mb', 'config', {'/targets/local/batch': {'max_bytes': 1048577}},
         '/targets/local/batch/max_bytes', 'between 1 and 1048576'),
    case('config-bad-workspace', 'config', {'/targets/local/workspace': 's3://bucket'}, '/targets/local/workspace',
         "must be 'local:PATH' or 'dataarts'"),
    case('config-target-without-workspace', 'config', {'/targets/local/workspace': _DELETE}, '/targets/local',
         "missing required field 'workspace'"),
    case('config-bad-target-name', 'config', {'/targets/prod eu': {'workspace': 'dataarts'}}, '/targets/prod eu',
         "'prod eu' is not a valid name"),
    case('config-unknown-top-level', 'config', {'/default-target': 'local'}, '/default-target', 'unknown field',
         "did you mean 'default_target'?"),
)


@pytest.mark.parametrize(('kind', 'changes', 'pointer', 'message', 'hint'), REJECTED)
def test_rejected(kind: str, changes: dict[str, Any], pointer: str, message: str, hint: str) -> None:
    problems = schema.validate(kind, _with(kind, changes))  # type: ignore[arg-type]
    assert [p.pointer for p in problems] == [pointer], problems
    assert message in problems[0].message
    assert hint in problems[0].hint
    assert '\n' not in problems[0].message


def test_every_problem_is_reported_in_document_order() -> None:
    job = _min_job()
    job['nodes'] = [{'name': f'n{i}', 'type': 'Dummy'} for i in range(12)]
    job['nodes'][10]['retryTimes'] = 9
    job['nodes'][2]['failPolicy'] = 'NOPE'
    job['processType'] = 'NOPE'
    problems = schema.validate('job', job)
    assert [p.pointer for p in problems] == ['/nodes/2/failPolicy', '/nodes/10/retryTimes', '/processType']


def test_type_mismatch_is_reported_once() -> None:
    """A boolean where an enum of strings is expected is one mistake, not two."""
    problems = schema.validate('job', _with('job', {'/nodes/0/execTimeOutRetry': True}))
    assert len(problems) == 1 and problems[0].keyword == 'type'


def test_not_a_mapping() -> None:
    problems = schema.validate('job', ['not', 'a', 'job'])
    assert [(p.pointer, p.message) for p in problems] == [('', 'the document must be a mapping, not a list')]


def test_secret_references_are_accepted_in_config_values() -> None:
    ref = '${secret:env:MYSQL_PASSWORD}'
    assert schema.validate('connection', _with('connection', {'/dw_config/password': ref})) == []
    assert schema.validate('cdm-link', _with(
        'cdm-link', {'/link-config-values/configs/linkConfig/linkConfig.password': ref})) == []
    assert schema.validate('resource', _with('resource', {'/location': '${var:ARTIFACTS}/etl.jar'})) == []


def test_problem_as_diagnostic() -> None:
    [problem] = schema.validate('job', _with('job', {'/nodes/0/retryTimes': 6}))
    diagnostic = problem.diagnostic(SourceRef('jobs/daily.yaml', 7))
    assert diagnostic.severity == 'error'
    assert diagnostic.where == 'jobs/daily.yaml:7#/nodes/0/retryTimes'
    assert diagnostic.summary == problem.message


@pytest.mark.parametrize(
    ('path', 'pointer'),
    (
        pytest.param((), '', id='root'),
        pytest.param(('nodes', 0, 'name'), '/nodes/0/name', id='nested'),
        pytest.param(('configs', 'a/b', 'c~d'), '/configs/a~1b/c~0d', id='escaped'),
        pytest.param(('~1',), '/~01', id='tilde-before-slash'),
    ),
)
def test_json_pointer(path: tuple[Any, ...], pointer: str) -> None:
    assert schema.json_pointer(path) == pointer


# --------------------------------------------------------------------------------------------------
# The schemas themselves

SCHEMA_FILES = sorted(SCHEMAS.glob('*.json'))


def test_one_schema_per_kind_and_config() -> None:
    assert {p.name for p in SCHEMA_FILES} == set(schema.SCHEMA_FILES.values())
    assert set(schema.SCHEMA_NAMES) == {*KINDS, 'config', 'template', 'plan', 'state'}
    for name in schema.SCHEMA_NAMES:  # each builds a validator
        schema.validator(name)


def test_the_schemas_jobsync_loads_are_the_repos_schemas() -> None:
    """Installed (a wheel carries them) or editable (the source tree), the same bytes."""
    loaded = schema.schema_dir()
    for path in SCHEMA_FILES:
        assert (loaded / path.name).read_text(encoding='utf-8') == path.read_text(encoding='utf-8'), path.name


@pytest.mark.parametrize('path', SCHEMA_FILES, ids=[p.name for p in SCHEMA_FILES])
def test_schema_is_valid_2020_12(path: Path) -> None:
    document = json.loads(path.read_text(encoding='utf-8'))
    Draft202012Validator.check_schema(document)
    assert document['$schema'] == 'https://json-schema.org/draft/2020-12/schema'
    assert document['$id'] == f'https://jobsync.dev/schemas/{path.name}'
    assert document['title'] and document['description']


def _properties(node: Any, where: str = '') -> Iterator[tuple[str, Any]]:
    """Every (location, subschema) declared under a `properties` keyword, anywhere in the schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'properties' and isinstance(value, dict):
                for name, sub in value.items():
                    yield f'{where}/properties/{name}', sub
                    yield from _properties(sub, f'{where}/properties/{name}')
            elif key not in ('if', 'const', 'enum', 'examples', 'default'):
                yield from _properties(value, f'{where}/{key}')
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _properties(value, f'{where}/{i}')


@pytest.mark.parametrize('path', SCHEMA_FILES, ids=[p.name for p in SCHEMA_FILES])
def test_every_property_has_a_description(path: Path) -> None:
    document = json.loads(path.read_text(encoding='utf-8'))
    declared = list(_properties(document))
    assert declared
    missing = [where for where, sub in declared if not (isinstance(sub, dict) and sub.get('description'))]
    assert missing == []


@pytest.mark.parametrize('path', SCHEMA_FILES, ids=[p.name for p in SCHEMA_FILES])
def test_every_pattern_is_explained_in_words(path: Path) -> None:
    """A pattern's failure message must say what is allowed, not print a regex at the user."""
    def patterns(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if isinstance(node.get('pattern'), str):
                yield node
            for value in node.values():
                yield from patterns(value)
        elif isinstance(node, list):
            for value in node:
                yield from patterns(value)

    for node in patterns(json.loads(path.read_text(encoding='utf-8'))):
        assert node.get('patternErrorMessage'), node['pattern']


@pytest.mark.parametrize(
    ('kind', 'fields'),
    (
        pytest.param('job', CONSOLE_JOB, id='job'),
        pytest.param('job', CONSOLE_JOB['nodes'][0], id='node'),
        pytest.param('job', CONSOLE_JOB['schedule'], id='schedule'),
        pytest.param('job', CONSOLE_JOB['schedule']['cron'], id='cron'),
        pytest.param('job', CONSOLE_JOB['basicConfig'], id='basicConfig'),
    ),
)
def test_console_extra_fields_are_known_properties(kind: str, fields: dict[str, Any]) -> None:
    """Exported extras are declared (with descriptions for editors), not merely tolerated."""
    declared = {where.rsplit('/', 1)[-1] for where, _ in _properties(schema.load_schema(kind))}
    assert set(fields) <= declared


def test_each_missing_field_is_named() -> None:
    problems = schema.validate('job', {'processType': 'BATCH'})
    assert [p.message for p in problems] == ["missing required field 'nodes'", "missing required field 'schedule'"]
