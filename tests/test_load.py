from __future__ import annotations

from pathlib import Path

import pytest

from jobsync.errors import ConfigError
from jobsync.gitrepo import Snapshot
from jobsync.load import load_repo
from jobsync.model import ObjectKey
from jobsync.secrets import SecretText

EXAMPLE = Path(__file__).resolve().parents[1] / 'examples' / 'repo'

SCRIPT = b'type: DWSSQL\nconnectionName: dws\n'
CONN = b'dw_type: DWS\ndw_config:\n  host: 10.0.0.1\n  password: ${secret:env:DWS_PASSWORD}\n'
JOB = b"""processType: BATCH
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
"""


def snapshot(files: dict[str, bytes]) -> Snapshot:
    return Snapshot(Path('/repo'), 'test', files)


def errors_of(files: dict[str, bytes]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_repo(snapshot(files))
    return [str(d) for d in info.value.diagnostics if d.severity == 'error']


def test_valid_repo_loads_in_api_form() -> None:
    result = load_repo(snapshot({
        'connections/dws.yaml': CONN, 'scripts/s1.yaml': SCRIPT, 'scripts/s1.sql': b'select 1;\n',
        'jobs/daily.yaml': JOB,
    }))
    job = result.desired[ObjectKey('job', 'daily')]
    assert job.spec['name'] == 'daily'
    assert job.spec['nodes'][0]['properties'] == [
        {'name': 'scriptName', 'value': 's1'}, {'name': 'connectionName', 'value': 'dws'}]
    assert result.desired[ObjectKey('script', 's1')].spec['content'] == 'select 1;\n'
    password = result.desired[ObjectKey('connection', 'dws')].spec['dw_config']['password']
    assert isinstance(password, SecretText)


def test_three_kinds_of_problem_reported_in_one_pass() -> None:
    problems = errors_of({
        'connections/dws.yaml': b'dw_type: DWS\ndw_config: [unclosed\n',                 # YAML syntax
        'scripts/s1.yaml': SCRIPT, 'scripts/s1.sql': b'select 1;',
        'jobs/daily.yaml': JOB.replace(b'scriptName: s1', b'scriptName: nope'),          # dangling script
        'jobs/weekly.yaml': JOB.replace(b'processType: BATCH', b'processType: WEEKLY'),  # schema
    })
    joined = '\n'.join(problems)
    assert 'connections/dws.yaml:3' in joined and 'YAML syntax error' in joined and 'opened at line 2' in joined
    assert 'jobs/daily.yaml:11#/nodes/0/properties/scriptName' in joined and "script 'nope'" in joined
    assert 'jobs/weekly.yaml:1#/processType' in joined


def test_name_must_match_file_stem() -> None:
    problems = errors_of({'scripts/s1.yaml': b'name: s2\ntype: Shell\nconnectionName: h\n', 'scripts/s1.sh': b'x'})
    assert any("name 's2' does not match the file name 's1'" in p for p in problems)


def test_duplicate_keys_are_errors_with_line() -> None:
    problems = errors_of({'resources/r.yaml': b'type: jar\nlocation: obs://b/a.jar\ntype: file\n'})
    assert any("resources/r.yaml:3#/type: duplicate key 'type'" in p for p in problems)


@pytest.mark.parametrize(
    ('value', 'expected'),
    (
        pytest.param(b'Add password here', 'export placeholder', id='placeholder'),
        pytest.param(b'hunter2!', 'literal secret', id='literal'),
    ),
)
def test_secret_fields_must_hold_references(value: bytes, expected: str) -> None:
    link = (b'connector-name: generic-jdbc-connector\nlink-config-values:\n  configs:\n    linkConfig:\n'
            b'      linkConfig.password: ' + value + b'\n')
    problems = errors_of({'cdm/c1/links/src.yaml': link})
    assert any(expected in p and 'cdm/c1/links/src.yaml:5' in p and '${secret:env:SRC_PASSWORD}' in p
               for p in problems), problems


def test_console_exported_job_file_is_accepted_as_is() -> None:
    result = load_repo(snapshot({f: (EXAMPLE / f).read_bytes() for f in (
        p.relative_to(EXAMPLE).as_posix() for p in EXAMPLE.rglob('*') if p.is_file())}))
    exported = [d for d in result.desired.values() if d.source.path.endswith('.job')]
    assert exported, 'examples/repo keeps at least one console-exported .job file'


def test_example_repo_uses_every_kind() -> None:
    files = {p.relative_to(EXAMPLE).as_posix(): p.read_bytes() for p in EXAMPLE.rglob('*') if p.is_file()}
    kinds = {key.kind for key in load_repo(snapshot(files)).desired}
    assert kinds == {'connection', 'resource', 'script', 'job', 'cdm-link', 'cdm-job'}


def test_api_form_pairs_are_checked_for_literal_secrets() -> None:
    link = (b'{"connector-name": "generic-jdbc-connector", "link-config-values": {"configs": [{"name": "linkConfig",'
            b' "inputs": [{"name": "linkConfig.password", "value": "Add password here"}]}]}}')
    problems = errors_of({'cdm/c1/links/src.json': link})
    assert any('export placeholder' in p for p in problems), problems


def test_fields_marked_secret_in_config_must_hold_references() -> None:
    config = b'secret_fields:\n  job:\n    - /nodes/*/properties/token\n'
    job = JOB.replace(b'      connectionName: dws\n', b'      connectionName: dws\n      token: abcd-1234\n')
    problems = errors_of({'jobsync.yaml': config, 'connections/dws.yaml': CONN, 'scripts/s1.yaml': SCRIPT,
                          'scripts/s1.sql': b'x', 'jobs/daily.yaml': job})
    assert any('jobs/daily.yaml:13#/nodes/0/properties/token' in p and 'literal secret' in p for p in problems)
    ok = job.replace(b'abcd-1234', b'${secret:env:API_TOKEN}')
    load_repo(snapshot({'jobsync.yaml': config, 'connections/dws.yaml': CONN, 'scripts/s1.yaml': SCRIPT,
                        'scripts/s1.sql': b'x', 'jobs/daily.yaml': ok}))


def test_references_are_checked_in_files_with_schema_errors_too() -> None:
    """Issue 16 item 6: a dangling scriptName shows up in the same run as the file's schema error."""
    broken = JOB.replace(b'processType: BATCH', b'processType: WEEKLY').replace(b'scriptName: s1', b'scriptName: nope')
    problems = errors_of({'connections/dws.yaml': CONN, 'scripts/s1.yaml': SCRIPT, 'scripts/s1.sql': b'x',
                          'jobs/daily.yaml': broken})
    joined = '\n'.join(problems)
    assert 'jobs/daily.yaml:1#/processType' in joined
    assert "jobs/daily.yaml:11#/nodes/0/properties/scriptName: script 'nope' is not defined" in joined, joined


def test_references_are_checked_when_the_name_does_not_match_the_file() -> None:
    script = b'name: other\ntype: DWSSQL\nconnectionName: missing_conn\n'
    problems = errors_of({'scripts/s1.yaml': script, 'scripts/s1.sql': b'x'})
    assert any("does not match the file name" in p for p in problems)
    assert any("scripts/s1.yaml:3#/connectionName: connection 'missing_conn' is not defined" in p
               for p in problems), problems


def test_a_value_already_reported_is_not_reported_again_as_a_reference() -> None:
    job = JOB.replace(b'scriptName: s1', b'scriptName: ${var:nowhere}')
    problems = errors_of({'connections/dws.yaml': CONN, 'scripts/s1.yaml': SCRIPT, 'scripts/s1.sql': b'x',
                          'jobs/daily.yaml': job})
    assert [p for p in problems if '/scriptName' in p] == [p for p in problems if "variable 'nowhere'" in p]
    assert len([p for p in problems if '/scriptName' in p]) == 1, problems


def test_references_to_a_broken_definition_are_not_reported() -> None:
    script = SCRIPT + b'retries: 3\n'  # a schema error in s1: the job's use of s1 is not a second problem
    problems = errors_of({'connections/dws.yaml': CONN, 'scripts/s1.yaml': script, 'scripts/s1.sql': b'x',
                          'jobs/daily.yaml': JOB})
    assert len(problems) == 1 and 'scripts/s1.yaml:3#/retries' in problems[0], problems
