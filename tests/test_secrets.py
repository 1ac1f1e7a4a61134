from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from jobsync import secrets
from jobsync.errors import SecretError


def test_reference_inside_a_longer_string() -> None:
    value = secrets.parse_text('jdbc:mysql://etl:${secret:env:DB_PW}@db:3306/x')
    assert isinstance(value, secrets.SecretText)
    assert value.refs == (secrets.SecretRef('env', 'DB_PW'),)
    assert str(value) == 'jdbc:mysql://etl:${secret:env:DB_PW}@db:3306/x'
    resolver = secrets.default_resolver(secrets.Redactor(), {'DB_PW': 'hunter22'})
    assert secrets.fill_secrets({'url': value}, resolver) == {'url': 'jdbc:mysql://etl:hunter22@db:3306/x'}


def test_plain_strings_stay_strings() -> None:
    assert secrets.parse_placeholders({'a': ['x', '${var:Y}']}) == {'a': ['x', '${var:Y}']}


def test_missing_env_names_the_reference_only() -> None:
    resolver = secrets.default_resolver(secrets.Redactor(), {})
    with pytest.raises(SecretError, match=r'\$\{secret:env:NOPE\}'):
        resolver.resolve(secrets.SecretRef('env', 'NOPE'))
    assert resolver.missing({secrets.SecretRef('env', 'NOPE')}) == [secrets.SecretRef('env', 'NOPE')]


def test_file_provider_strips_one_newline_and_refuses_escapes(tmp_path: Path) -> None:
    (tmp_path / 'dws').mkdir()
    (tmp_path / 'dws' / 'password').write_text('s3cret-value\n\n')
    resolver = secrets.default_resolver(secrets.Redactor(), {}, tmp_path)
    assert resolver.resolve(secrets.SecretRef('file', 'dws/password')) == 's3cret-value\n'
    for bad in ('/etc/passwd', '../outside'):
        with pytest.raises(SecretError, match='relative'):
            resolver.resolve(secrets.SecretRef('file', bad))


def test_short_values_are_refused_and_resolved_values_scrubbed() -> None:
    redactor = secrets.Redactor()
    resolver = secrets.default_resolver(redactor, {'SHORT': 'abc', 'LONG': 'canary-1234'})
    with pytest.raises(SecretError, match='shorter than 4'):
        resolver.resolve(secrets.SecretRef('env', 'SHORT'))
    resolver.resolve(secrets.SecretRef('env', 'LONG'))
    assert redactor.scrub('error: bad password canary-1234 for user') == 'error: bad password ******** for user'


# --- references only in write-only fields (issue 12 item 7), on a git copy of examples/repo ------

def _load_errors(repo: Path) -> list[str]:
    from jobsync.errors import ConfigError
    from jobsync.gitrepo import read_snapshot
    from jobsync.load import load_repo

    try:
        load_repo(read_snapshot(repo))
    except ConfigError as err:
        return [str(d) for d in err.diagnostics if d.severity == 'error']
    return []


def _edit(repo: Path, rel: str, old: str, new: str) -> None:
    from conftest import git_commit_all

    path = repo / rel
    text = path.read_text()
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new))
    git_commit_all(repo, f'edit {rel}')


def _refused(problems: list[str], where: str) -> None:
    hits = [p for p in problems if where in p]
    assert len(hits) == 1, problems
    assert 'a field the service keeps in clear' in hits[0]
    assert 'readable by anyone with console access' in hits[0] and 'cannot compare' in hits[0]
    assert 'put the secret in a write-only field' in hits[0] and 'secret_fields' in hits[0]


def test_a_reference_in_script_content_is_refused(example_repo: Path) -> None:
    _edit(example_repo, 'scripts/cleanup_tmp.sh', 'set -euo pipefail\n',
          'set -euo pipefail\nexport PGPASSWORD=${secret:env:ETL_HOST_PASSWORD}\n')
    problems = _load_errors(example_repo)
    _refused(problems, '#/content')
    assert problems[0].startswith('error: scripts/cleanup_tmp.yaml:'), problems


def test_a_reference_in_a_jdbc_url_is_refused(example_repo: Path) -> None:
    _edit(example_repo, 'cdm/cdm-prod/links/mysql_src.yaml', '      linkConfig.fetchSize',
          '      linkConfig.url: jdbc:mysql://etl_reader:${secret:env:MYSQL_PASSWORD}@db:3306/shop\n'
          '      linkConfig.fetchSize')
    _refused(_load_errors(example_repo),
             'cdm/cdm-prod/links/mysql_src.yaml:13#/link-config-values/configs/linkConfig/linkConfig.url')


def test_a_reference_in_a_description_is_refused(example_repo: Path) -> None:
    _edit(example_repo, 'connections/rds_mysql.yaml', 'description: RDS for MySQL read replica',
          'description: ${secret:env:MYSQL_PASSWORD} RDS for MySQL read replica')
    problems = _load_errors(example_repo)
    _refused(problems, 'connections/rds_mysql.yaml:3#/description')
    assert 'secret_fields: {connection: [/description]}' in ' '.join(problems)


def test_a_reference_in_a_password_field_is_accepted(example_repo: Path) -> None:
    # The example already holds references in connection passwords and CDM link passwords.
    assert '${secret:env:MYSQL_PASSWORD}' in (example_repo / 'connections' / 'rds_mysql.yaml').read_text()
    _edit(example_repo, 'connections/rds_mysql.yaml', '  username: etl_reader\n',
          '  username: etl_reader\n  userPassword: ${secret:env:MYSQL_PASSWORD}\n')
    assert _load_errors(example_repo) == []


def test_a_field_marked_secret_in_jobsync_yaml_may_hold_a_reference(example_repo: Path) -> None:
    url = '  jdbc_url: jdbc:mysql://etl_reader:${secret:env:MYSQL_PASSWORD}@db:3306/shop\n'
    _edit(example_repo, 'connections/rds_mysql.yaml', '  username: etl_reader\n', '  username: etl_reader\n' + url)
    assert any('#/dw_config/jdbc_url' in p for p in _load_errors(example_repo))
    config = example_repo / 'jobsync.yaml'
    config.write_text(config.read_text() + '\nsecret_fields:\n  connection: [/dw_config/jdbc_url]\n')
    from conftest import git_commit_all

    git_commit_all(example_repo, 'mark the description write-only')
    assert _load_errors(example_repo) == []


def test_a_reference_in_an_api_form_job_file_names_the_pair_value() -> None:
    from jobsync.errors import Diagnostic

    job = {'name': 'j', 'nodes': [{'name': 'n', 'properties': [
        {'name': 'scriptName', 'value': 's'}, {'name': 'token', 'value': 'Bearer ${secret:env:TOKEN}'}]}]}
    seen: list[tuple[str, str]] = []

    def report(severity: Literal['error', 'warning'], summary: str, pointer: str, hint: str) -> Diagnostic:
        seen.append((pointer, summary))
        return Diagnostic(severity, summary, pointer, hint)

    problems = secrets.reference_problems(report, 'job', job, None)
    assert len(problems) == 1
    assert seen == [('/nodes/0/properties/1/value',
                     'secret reference ${secret:env:TOKEN} in token, a field the service keeps in clear')]
    assert 'secret_fields: {job: [/nodes/0/properties/token]}' in problems[0].hint
    assert secrets.reference_problems(report, 'job', job, None, ['/nodes/*/properties/token']) == []
