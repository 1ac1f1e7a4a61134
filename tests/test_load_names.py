"""File stems are object names: `validate` holds them to the service's name rules (issue 12)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLE_REPO, git_commit_all, run_jobsync


@pytest.mark.parametrize('stem', ['bad$(id)', 'x' * 240, 'tab\there'], ids=['shell', 'too-long', 'control'])
def test_a_file_stem_the_service_refuses_is_an_error_naming_the_file(tmp_path: Path, stem: str) -> None:
    repo = tmp_path / 'repo'
    shutil.copytree(EXAMPLE_REPO, repo, ignore=shutil.ignore_patterns('.jobsync'))
    source = repo / 'scripts' / 'cleanup_tmp.yaml'
    try:
        (repo / 'scripts' / f'{stem}.yaml').write_text(
            source.read_text(encoding='utf-8').replace('cleanup_tmp', stem), encoding='utf-8')
    except OSError:
        pytest.skip('the file system refuses this name itself')
    (repo / 'scripts' / f'{stem}.sh').write_text('echo 1\n', encoding='utf-8')
    git_commit_all(repo)
    result = run_jobsync('validate', '--repo', str(repo))
    assert result.code == 1, result
    assert 'cannot be a script name' in result.stderr and 'Traceback' not in result.stderr
