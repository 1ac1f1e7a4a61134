"""Secrets through the real command: references in git, values only inside apply, never in output."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import pytest
from conftest import EXAMPLE_SECRETS, run_jobsync


def _all_output(*results: object) -> str:
    return '\n'.join(f'{r.stdout}\n{r.stderr}' for r in results)  # type: ignore[attr-defined]


def _files_written_by_jobsync(repo: Path, extra: list[Path]) -> str:
    """Every file jobsync wrote, except the workspace database (the service holds the secrets)."""
    texts = []
    for path in [*repo.rglob('*'), *extra]:
        if path.is_file() and '.git' not in path.parts and path.suffix not in ('.db', '.db-wal', '.db-shm'):
            texts.append(path.read_bytes().decode('utf-8', 'replace'))
    return '\n'.join(texts)


def test_no_canary_in_anything_jobsync_prints_or_writes(example_repo: Path, tmp_path: Path) -> None:
    plan_file = tmp_path / 'plan.json'
    results = [
        run_jobsync('plan', '--repo', str(example_repo), '--out', str(plan_file)),
        run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS),
        run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', '--refresh-secrets', '--format', 'json',
                    env=EXAMPLE_SECRETS),
        run_jobsync('validate', '--repo', str(example_repo), '--check-secrets', env=EXAMPLE_SECRETS),
        run_jobsync('plan', '--repo', str(example_repo), '--format', 'json', env=EXAMPLE_SECRETS),
    ]
    assert [r.code for r in results] == [0, 0, 0, 0, 0], results
    everything = _all_output(*results) + _files_written_by_jobsync(example_repo, [plan_file])
    assert '${secret:env:DWS_PASSWORD}' in everything  # references do appear...
    for name, canary in EXAMPLE_SECRETS.items():
        assert canary not in everything, f'the value of {name} leaked'  # ...values never


def test_refresh_secrets_resends_only_secret_bearing_objects(example_repo: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    refreshed = run_jobsync('plan', '--repo', str(example_repo), '--refresh-secrets', '--detailed-exitcode')
    assert refreshed.code == 2
    updated = sorted(line.split()[1] for line in refreshed.stdout.splitlines() if line.startswith('~ '))
    assert updated == ['cdm-link/cdm-prod/dws_dst', 'cdm-link/cdm-prod/mysql_src', 'connection/doctest',
                       'connection/ecs_etl_host', 'connection/mrs_hive', 'connection/rds_mysql']


def test_plan_needs_no_secret_and_check_secrets_names_the_missing_reference(example_repo: Path) -> None:
    assert run_jobsync('plan', '--repo', str(example_repo)).code == 0
    partial = {k: v for k, v in EXAMPLE_SECRETS.items() if k != 'DWS_PASSWORD'}
    checked = run_jobsync('validate', '--repo', str(example_repo), '--check-secrets', env=partial)
    assert checked.code == 1
    assert '${secret:env:DWS_PASSWORD}: environment variable DWS_PASSWORD is not set' in checked.stderr
    assert 'connection/doctest' in checked.stderr


def test_error_messages_echoing_a_secret_are_scrubbed(example_repo: Path) -> None:
    """A value the service echoes back (here: a resolved password inside a rejected object) is masked."""
    link = example_repo / 'cdm' / 'cdm-prod' / 'jobs' / 'orders.yaml'
    text = link.read_text()
    # Point the CDM job at a link that does not exist and name it after the secret: the engine's
    # refusal then quotes a resolved value back, as a real service's error body might.
    link.write_text(text.replace('from-link-name: mysql_src', 'from-link-name: ${secret:env:MYSQL_PASSWORD}'))
    # A reference may stand only in a write-only field (issue 12): mark the field so, and make the
    # template's CDM jobs hold a reference there too, since a literal in a secret field is refused.
    template = link.parent / 'master_data.template.yaml'
    template.write_text(template.read_text().replace('from-link-name: mysql_src',
                                                     'from-link-name: ${secret:env:MYSQL_PASSWORD}'))
    config = example_repo / 'jobsync.yaml'
    config.write_text(config.read_text() + '\nsecret_fields:\n  cdm-job: [/from-link-name]\n')
    result = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS)
    everything = _all_output(result)
    assert result.code == 1, result
    assert 'failed   cdm-job/cdm-prod/orders' in result.stdout
    assert '********' in everything  # the echoed value was there, and was masked
    assert EXAMPLE_SECRETS['MYSQL_PASSWORD'] not in everything


@pytest.mark.parametrize('fmt', ['text', 'json'])
@pytest.mark.parametrize('value', ['canary-mysql-51be02', 'ca"na\\ry\nline2-5e1f', 'a/b+c d&e=f?g%h'],
                         ids=['plain', 'quote-backslash-newline', 'url-special'])
def test_an_echoed_secret_is_scrubbed_in_every_output_form(example_repo: Path, fmt: str, value: str) -> None:
    """The value the service echoes comes out raw in text and JSON-escaped in --format json: both
    are masked (canaries per form, issue 12 item 6)."""
    link = example_repo / 'cdm' / 'cdm-prod' / 'jobs' / 'orders.yaml'
    for path in (link, link.parent / 'master_data.template.yaml'):
        path.write_text(path.read_text().replace('from-link-name: mysql_src',
                                                 'from-link-name: ${secret:env:MYSQL_PASSWORD}'))
    config = example_repo / 'jobsync.yaml'
    config.write_text(config.read_text() + '\nsecret_fields:\n  cdm-job: [/from-link-name]\n')
    env = {**EXAMPLE_SECRETS, 'MYSQL_PASSWORD': value}
    result = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', '--format', fmt, env=env)
    everything = _all_output(result)
    assert result.code == 1, result
    assert '********' in everything
    for form in (value, json.dumps(value)[1:-1], urllib.parse.quote(value, safe=''),
                 base64.b64encode(value.encode()).decode()):
        assert form not in everything, form
