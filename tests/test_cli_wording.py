"""Error wording: a refused connection names the endpoint; plans of a clean tree with untracked
non-definition files are not "+dirty"; `export --branch X --commit` with nothing to write makes no branch."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import git
from cli_runner import run_jobsync


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


def test_a_refused_connection_names_the_endpoint(example_repo: Path) -> None:
    port = _free_port()  # nothing listens there
    config = example_repo / 'jobsync.yaml'
    text = config.read_text().replace('http://127.0.0.1:8443', f'http://127.0.0.1:{port}')
    config.write_text(text.replace('      project_id: 0123456789abcdef0123456789abcdef\n',
                                   '      project_id: 0123456789abcdef0123456789abcdef\n      max_attempts: 1\n', 1))
    result = run_jobsync('plan', '--repo', str(example_repo), '--target', 'emulator',
                         env={'HUAWEICLOUD_SDK_AK': 'AKEXAMPLE', 'HUAWEICLOUD_SDK_SK': 'SKEXAMPLE'})
    assert result.code == 1, result
    assert f'http://127.0.0.1:{port}' in result.stderr
    assert 'is `jobsync emulator` running' in result.stderr and 'Traceback' not in result.stderr


def test_untracked_files_outside_the_definitions_do_not_make_a_plan_dirty(example_repo: Path) -> None:
    (example_repo / 'plan.json').write_text('{}')
    (example_repo / 'notes.txt').write_text('scratch')
    result = run_jobsync('plan', '--repo', str(example_repo), '--format', 'json')
    assert result.code == 0, result
    revision = json.loads(result.stdout)['repo_rev']
    assert not revision.endswith('+dirty'), revision
    (example_repo / 'jobs' / 'new_job.yaml').write_text((example_repo / 'jobs' / 'job_batch.yaml').read_text()
                                                        .replace('name: job_batch', 'name: new_job', 1))
    dirty = json.loads(run_jobsync('plan', '--repo', str(example_repo), '--format', 'json').stdout)['repo_rev']
    assert dirty.endswith('+dirty')


def test_export_commit_on_a_new_branch_with_nothing_to_write_makes_no_branch(example_repo: Path) -> None:
    from cli_runner import EXAMPLE_SECRETS

    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    repo = git.Repo(example_repo)
    before = repo.active_branch.name
    result = run_jobsync('export', '--all', '--repo', str(example_repo), '--branch', 'jobsync/drift', '--commit')
    assert result.code == 0, result
    assert 'jobsync/drift' not in [h.name for h in repo.heads]
    assert repo.active_branch.name == before
    again = run_jobsync('export', '--all', '--repo', str(example_repo), '--branch', 'jobsync/drift', '--commit')
    assert again.code == 0, again
