"""The revision a plan records for a working tree: the commit, `+dirty` when a definition differs
from it (one `git status`, gitrepo._is_dirty); untracked files outside the definitions are no change."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli_runner import run_jobsync

from jobsync.gitrepo import read_snapshot


def _git(root: Path, *args: str) -> None:
    subprocess.run(['git', '-c', 'user.name=t', '-c', 'user.email=t@jobsync.invalid', *args], cwd=root,
                   check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / 'defs'
    (root / 'jobs').mkdir(parents=True)
    (root / 'jobs' / 'a.yaml').write_text('processType: BATCH\n', encoding='utf-8')
    (root / 'README.md').write_text('docs\n', encoding='utf-8')
    _git(root, 'init', '-q')
    _git(root, 'add', '-A')
    _git(root, 'commit', '-qm', 'first')
    return root


def _rev(root: Path) -> str:
    return read_snapshot(root).rev


def test_a_clean_tree_is_its_commit_and_an_untracked_file_elsewhere_changes_nothing(repo: Path) -> None:
    assert not _rev(repo).endswith('+dirty')
    (repo / 'plan.json').write_text('{}', encoding='utf-8')
    assert not _rev(repo).endswith('+dirty')
    assert not (repo / '.git' / 'index.lock').exists()


@pytest.mark.parametrize('change', ['untracked definition', 'unstaged edit', 'staged edit', 'staged rename',
                                    'edit outside the definitions'])
def test_each_kind_of_change_is_dirty(repo: Path, change: str) -> None:
    job = repo / 'jobs' / 'a.yaml'
    if change == 'untracked definition':
        (repo / 'jobs' / 'b.yaml').write_text('processType: BATCH\n', encoding='utf-8')
    elif change == 'unstaged edit':
        job.write_text('processType: REAL_TIME\n', encoding='utf-8')
    elif change == 'staged edit':
        job.write_text('processType: REAL_TIME\n', encoding='utf-8')
        _git(repo, 'add', '-A')
    elif change == 'staged rename':
        _git(repo, 'mv', 'jobs/a.yaml', 'jobs/c.yaml')
    else:  # a tracked file that is no definition: the tree is not the commit
        (repo / 'README.md').write_text('more docs\n', encoding='utf-8')
    assert _rev(repo).endswith('+dirty')


def test_a_repo_in_a_subfolder_looks_at_its_own_folder(tmp_path: Path) -> None:
    top = tmp_path / 'mono'
    (top / 'defs' / 'jobs').mkdir(parents=True)
    (top / 'defs' / 'jobs' / 'a.yaml').write_text('processType: BATCH\n', encoding='utf-8')
    (top / 'other').mkdir()
    (top / 'other' / 'x.txt').write_text('x\n', encoding='utf-8')
    _git(top, 'init', '-q')
    _git(top, 'add', '-A')
    _git(top, 'commit', '-qm', 'first')
    (top / 'other' / 'x.txt').write_text('changed\n', encoding='utf-8')
    assert not _rev(top / 'defs').endswith('+dirty')
    (top / 'defs' / 'jobs' / 'a.yaml').write_text('processType: REAL_TIME\n', encoding='utf-8')
    assert _rev(top / 'defs').endswith('+dirty')


def test_a_repository_git_cannot_read_is_a_clear_error(repo: Path) -> None:
    (repo / '.git' / 'index').write_bytes(b'garbage')  # a corrupt index: `git status` fails
    result = run_jobsync('validate', '--repo', str(repo))
    assert result.code == 1 and 'Traceback' not in result.stderr
    assert f'`git status` failed in {repo.resolve()}' in result.stderr and 'index file' in result.stderr, result.stderr
