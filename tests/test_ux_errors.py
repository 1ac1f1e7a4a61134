"""Wording and error fixes of issue 15: each input a user can give gets the handling it would get
in its documented place, or a message saying what to do; never success by accident."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import git
import pytest
from conftest import EXAMPLE_REPO, EXAMPLE_SECRETS, git_commit_all, run_jobsync
from workspace_specs import script_spec

from jobsync import gitrepo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / 'repo'
    (path / 'connections').mkdir(parents=True)
    (path / 'connections' / 'dws.yaml').write_text(
        'dw_type: DWS\nagent_name: cdm-agent\ndw_config:\n  host: 10.0.0.5\n  password: ${secret:env:DWS}\n')
    git_commit_all(path, 'a connection')
    return path


def test_a_lone_console_script_file_imports_like_the_same_file_in_an_export(repo: Path, tmp_path: Path) -> None:
    spec = {**script_spec('load', connection='dws'), 'id': 7, 'version': 2}
    lone = tmp_path / 'load.script'
    lone.write_text(json.dumps(spec))
    zipped = tmp_path / 'DLF_x.zip'
    with zipfile.ZipFile(zipped, 'w') as archive:
        archive.writestr('scripts/load.script', json.dumps(spec))
    alone = run_jobsync('import-bundle', str(lone), '--repo', str(repo), '--dry-run')
    inside = run_jobsync('import-bundle', str(zipped), '--repo', str(repo), '--dry-run')
    assert alone.code == inside.code == 0, (alone, inside)
    assert alone.stdout.replace('load.script', 'DLF_x.zip') == inside.stdout
    written = run_jobsync('import-bundle', str(lone), '--repo', str(repo))
    assert written.code == 0 and 'Import of load.script' in written.stdout, written
    assert gitrepo.read_snapshot(repo).files['scripts/load.sql'].strip() == spec['content'].encode().strip()


@pytest.mark.parametrize(('name', 'text', 'words'), [
    pytest.param('load.script', '["not", "an object"]', 'holds one script as a JSON object', id='not-an-object'),
    pytest.param('x.json', '{"some": "thing"}', 'not a CDM export', id='unknown-json'),
])
def test_a_lone_file_that_is_no_console_export_is_refused_saying_why(repo: Path, tmp_path: Path, name: str,
                                                                     text: str, words: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    result = run_jobsync('import-bundle', str(path), '--repo', str(repo))
    assert result.code == 1 and words in result.stderr, result
    assert 'Traceback' not in result.stderr


def test_export_of_an_unknown_group_is_an_error_as_run_is(example_repo: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    for command in ('export', 'run'):
        result = run_jobsync(command, '--group', 'no_such_group', '--repo', str(example_repo))
        assert result.code == 1, result
        assert 'no CDM job in group no_such_group' in result.stderr and '`jobsync groups`' in result.stderr
    known = run_jobsync('export', '--group', 'sales', '--repo', str(example_repo), '--dry-run')
    assert known.code == 0, known


def test_a_folder_outside_git_is_not_called_a_git_revision(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE_REPO, tmp_path / 'defs', ignore=shutil.ignore_patterns('.jobsync'))
    planned = run_jobsync('plan', '--repo', str(tmp_path / 'defs'))
    assert planned.code == 0, planned
    assert planned.stdout.splitlines()[0].endswith(', git not-in-git') and 'worktree' not in planned.stdout
    git.Repo.init(tmp_path / 'defs')
    unborn = run_jobsync('plan', '--repo', str(tmp_path / 'defs'), '--format', 'json')
    assert json.loads(unborn.stdout)['repo_rev'] == 'no-commits', unborn
