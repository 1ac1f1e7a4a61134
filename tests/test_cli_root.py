"""The repo root is found as git finds its top level; a wrong folder is an error that creates nothing."""

from __future__ import annotations

from pathlib import Path

import git
from cli_runner import EXAMPLE_SECRETS, run_jobsync


def test_plan_in_a_subfolder_finds_the_repo(example_repo: Path) -> None:
    assert run_jobsync('validate', cwd=example_repo / 'jobs').code == 0
    result = run_jobsync('plan', cwd=example_repo / 'jobs')
    assert result.code == 0, result
    assert 'job/job_batch' in result.stdout  # the example's objects, not "No changes"
    assert not (example_repo / '.jobsync').exists()  # plan creates no workspace (issue 12, item 10)
    applied = run_jobsync('apply', '--auto-approve', cwd=example_repo / 'jobs', env=EXAMPLE_SECRETS)
    assert applied.code == 0, applied
    assert (example_repo / '.jobsync' / 'workspace.db').exists()  # the first write: at the repo's root
    assert not (example_repo / 'jobs' / '.jobsync').exists()


def test_plan_in_an_empty_git_repo_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    git.Repo.init(tmp_path)
    for args in (('plan',), ('validate',), ('plan', '--format', 'json'), ('drift',)):
        result = run_jobsync(*args, cwd=tmp_path)
        assert result.code == 1, (args, result)
        assert 'not a jobsync repo' in result.stderr + result.stdout and 'jobsync init' in result.stderr + result.stdout
        assert 'Traceback' not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ['.git']


def test_repo_option_in_a_subfolder_finds_the_root(example_repo: Path, tmp_path: Path) -> None:
    result = run_jobsync('validate', '--repo', str(example_repo / 'cdm'), cwd=tmp_path)
    assert result.code == 0, result
