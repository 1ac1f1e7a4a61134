"""Reading the repo (issue 12 item 1): only regular files inside it, from the working tree or from git.

A pull request adding `scripts/x.sh -> /proc/self/environ` must not get the CI job's environment
printed into its plan comment: links, FIFOs, devices and linked folders are refused by name,
never opened, in every command (they all read through `gitrepo.read_snapshot`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import git
import pytest
from conftest import EXAMPLE_REPO, git_commit_all, run_jobsync

from jobsync import gitrepo
from jobsync.errors import ConfigError

SCRIPT = 'type: Shell\nconnectionName: ecs_etl_host\n'
CANARY = 'canary-ak-5e1f0b0c'


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / 'repo'
    shutil.copytree(EXAMPLE_REPO, repo, ignore=shutil.ignore_patterns('.jobsync'))
    return repo


def _refused(repo: Path, ref: str | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        gitrepo.read_snapshot(repo, ref)
    return {d.where: d.summary for d in info.value.diagnostics}


def test_links_fifos_and_linked_folders_are_refused_by_name(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / 'scripts' / 'x.yaml').write_text(SCRIPT)
    os.symlink('/proc/self/environ', repo / 'scripts' / 'x.sh')
    (repo / 'scripts' / 'y.yaml').write_text(SCRIPT)
    os.symlink('../.git/config', repo / 'scripts' / 'y.sh')
    os.mkfifo(repo / 'scripts' / 'pipe.sql')
    outside = tmp_path / 'elsewhere'
    outside.mkdir()
    (outside / 'sneaky.yaml').write_text('processType: BATCH\n')
    os.symlink(outside, repo / 'resources' / 'more')
    refused = _refused(repo)
    assert set(refused) == {'scripts/x.sh', 'scripts/y.sh', 'scripts/pipe.sql', 'resources/more'}
    assert refused['scripts/x.sh'].startswith('is a symbolic link')
    assert refused['scripts/pipe.sql'].startswith('is a FIFO')
    assert all('did not read it' in why for why in refused.values())


def test_a_linked_jobs_folder_is_refused_not_ignored(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    real = tmp_path / 'real-jobs'
    (repo / 'jobs').rename(real)
    os.symlink(real, repo / 'jobs')
    assert _refused(repo) == {'jobs': _refused(repo)['jobs']}
    assert _refused(repo)['jobs'].startswith('is a symbolic link')


def test_a_linked_config_file_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / 'jobsync.yaml').rename(tmp_path / 'jobsync.yaml')
    os.symlink(tmp_path / 'jobsync.yaml', repo / 'jobsync.yaml')
    assert list(_refused(repo)) == ['jobsync.yaml']


def test_a_device_is_refused(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    try:
        os.mknod(repo / 'scripts' / 'zero.sql', 0o600 | 0o020000, os.makedev(1, 5))  # /dev/zero's numbers
    except (PermissionError, OSError):
        pytest.skip('cannot create a device node here')
    assert _refused(repo) == {'scripts/zero.sql': _refused(repo)['scripts/zero.sql']}
    assert _refused(repo)['scripts/zero.sql'].startswith('is a device')


def test_a_file_over_the_size_bound_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path)
    monkeypatch.setattr(gitrepo, 'MAX_FILE_BYTES', 1000)
    (repo / 'scripts' / 'merge_orders.sql').write_bytes(b'-- x\n' * 300)
    assert 'may be at most 1,000' in _refused(repo)['scripts/merge_orders.sql']
    git_commit_all(repo)
    assert 'may be at most 1,000' in _refused(repo, 'HEAD')['scripts/merge_orders.sql']


def test_a_link_committed_to_git_is_refused_at_that_ref(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / 'scripts' / 'x.yaml').write_text(SCRIPT)
    os.symlink('/proc/self/environ', repo / 'scripts' / 'x.sh')
    sha = git_commit_all(repo)
    refused = _refused(repo, sha)
    assert list(refused) == ['scripts/x.sh'] and refused['scripts/x.sh'].startswith('is a symbolic link at')


def test_regular_files_read_as_before(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / 'notes').mkdir()
    os.symlink('/proc/self/environ', repo / 'notes' / 'env')  # outside the tracked roots: not jobsync's business
    snapshot = gitrepo.read_snapshot(repo)
    expected = {p.relative_to(repo).as_posix() for p in repo.rglob('*') if p.is_file()
                and p.relative_to(repo).parts[0] in gitrepo.TRACKED_ROOTS}
    assert set(snapshot.files) == expected
    assert snapshot.files['jobsync.yaml'] == (repo / 'jobsync.yaml').read_bytes()


def test_plan_of_a_pull_request_linking_the_environment_leaks_nothing(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    git.Repo.init(repo)
    git_commit_all(repo)
    (repo / 'scripts' / 'x.yaml').write_text(SCRIPT)
    os.symlink('/proc/self/environ', repo / 'scripts' / 'x.sh')
    os.symlink('../.git/config', repo / 'scripts' / 'cleanup_tmp.sh.orig')
    for command in (['plan', '--format', 'markdown'], ['validate']):
        result = run_jobsync(*command, '--repo', str(repo), env={'HUAWEICLOUD_SDK_AK': CANARY})
        assert result.code == 1, result
        assert CANARY not in result.stdout + result.stderr
        assert '[core]' not in result.stdout + result.stderr  # nothing of .git/config either
        assert 'scripts/x.sh' in result.stderr and 'symbolic link' in result.stderr, result
        assert 'Internal error' not in result.stderr


# --- without a `git` executable (issue 10 item 6) ---------------------------------------------------


def test_commands_that_need_no_git_work_without_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path)  # not a git repo
    no_git = {'PATH': str(tmp_path / 'empty-bin')}
    assert run_jobsync('--help', env=no_git).code == 0
    validated = run_jobsync('validate', '--repo', str(repo), env=no_git)
    assert validated.code == 0 and 'definitions valid' in validated.stdout, validated
    planned = run_jobsync('plan', '--repo', str(repo), env=no_git)
    assert planned.code == 0, planned


def test_a_command_that_needs_git_says_it_is_missing(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    git_commit_all(repo)
    for command in (['validate', '--repo', str(repo)], ['plan', '--repo', str(repo), '--ref', 'HEAD']):
        result = run_jobsync(*command, env={'PATH': str(tmp_path / 'empty-bin')})
        assert result.code == 1, result
        assert 'needs the `git` executable, which is not on PATH' in result.stderr and 'install git' in result.stderr
        assert 'Traceback' not in result.stderr and 'Internal error' not in result.stderr
