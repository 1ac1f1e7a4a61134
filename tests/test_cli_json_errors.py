"""`--format json` always gives one JSON document on stdout, on failure an error document;
`validate --format json` lists diagnostics with file, line, pointer and hint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import run_jobsync

from jobsync.cli.jsonerror import diagnostic_json
from jobsync.errors import Diagnostic


def _break(repo: Path) -> None:
    job = repo / 'jobs' / 'job_batch.yaml'
    job.write_text(job.read_text() + 'bogusField: 1\n')


def test_validate_json_ok(example_repo: Path) -> None:
    result = run_jobsync('validate', '--repo', str(example_repo), '--format', 'json')
    assert result.code == 0, result
    doc = json.loads(result.stdout)
    assert doc['ok'] is True and doc['target'] == 'local' and doc['definitions'] > 0


def test_validate_json_lists_diagnostics(example_repo: Path) -> None:
    _break(example_repo)
    result = run_jobsync('validate', '--repo', str(example_repo), '--format', 'json')
    assert result.code == 1
    doc = json.loads(result.stdout)
    assert doc['ok'] is False and doc['error']['kind'] == 'config'
    [problem] = [d for d in doc['diagnostics'] if d['pointer'] == '/bogusField']
    assert problem['file'] == 'jobs/job_batch.yaml' and isinstance(problem['line'], int)
    assert problem['severity'] == 'error' and problem['hint']
    assert 'bogusField' in result.stderr  # the text still goes to stderr


@pytest.mark.parametrize('args', [('plan',), ('apply', '--auto-approve'), ('drift',)])
def test_every_json_command_fails_with_a_json_document(example_repo: Path, args: tuple[str, ...]) -> None:
    _break(example_repo)
    result = run_jobsync(*args, '--repo', str(example_repo), '--format', 'json')
    assert result.code == 1, result
    doc = json.loads(result.stdout)  # exactly one document
    assert doc['ok'] is False and doc['error']['message']


@pytest.mark.parametrize('args', [('run', 'job_batch'), ('export', '--all'), ('groups',), ('stop', 'job_batch')])
def test_an_unknown_target_is_a_json_error(example_repo: Path, args: tuple[str, ...]) -> None:
    result = run_jobsync(*args, '--repo', str(example_repo), '--target', 'nope', '--format', 'json')
    assert result.code == 1, result
    assert json.loads(result.stdout)['error']['kind'] == 'error'


def test_diagnostic_places() -> None:
    place = diagnostic_json(Diagnostic('error', 'bad', 'jobs/a.yaml:12#/schedule/cron', 'fix it'))
    assert (place['file'], place['line'], place['pointer'], place['hint']) == ('jobs/a.yaml', 12, '/schedule/cron',
                                                                              'fix it')
    assert diagnostic_json(Diagnostic('warning', 'x', 'job/daily'))['object'] == 'job/daily'
    assert diagnostic_json(Diagnostic('error', 'x', 'jobsync.yaml'))['file'] == 'jobsync.yaml'
