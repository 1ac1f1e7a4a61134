"""Safe writes (issue 12): export and import-bundle never write through, or replace, a symbolic link,
never leave the repo, and find every bad path before writing anything."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import git_commit_all
from typer.testing import CliRunner
from workspace_specs import cdm_job_spec, job_spec

from jobsync import export, safewrite
from jobsync.cli import app
from jobsync.model import LiveObject, ObjectKey
from jobsync.workspace.local import LocalWorkspace

SECRET = b'the file a hostile pull request points at\n'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / 'repo'
    path.mkdir()
    (path / 'README.md').write_text('definitions\n')
    return path


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the repo that a committed link points at."""
    target = tmp_path / 'outside' / 'victim'
    target.parent.mkdir()
    target.write_bytes(SECRET)
    return target


def _files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob('*') if '.git' not in p.parts}


# --- the module --------------------------------------------------------------------------------

def test_a_write_lands_in_place_with_no_temporary_file_left_and_keeps_the_mode(repo: Path) -> None:
    script = repo / 'scripts' / 'run.sh'
    script.parent.mkdir()
    script.write_text('old\n')
    script.chmod(0o755)
    written = safewrite.write_files(repo, {'scripts/run.sh': b'new\n', 'jobs/etl/a.yaml': b'a: 1\n'})
    assert written == ['jobs/etl/a.yaml', 'scripts/run.sh']
    assert script.read_bytes() == b'new\n' and (script.stat().st_mode & 0o777) == 0o755
    assert (repo / 'jobs' / 'etl' / 'a.yaml').read_bytes() == b'a: 1\n'
    assert not [p for p in _files_under(repo) if p.endswith(safewrite.TMP_SUFFIX)]


def test_a_leftover_regular_temporary_file_is_replaced(repo: Path) -> None:
    (repo / 'jobs').mkdir()
    (repo / 'jobs' / '.a.yaml.jobsync-tmp').write_text('half a file from an interrupted export')
    safewrite.write_files(repo, {'jobs/a.yaml': b'a: 1\n'})
    assert _files_under(repo) == {'README.md', 'jobs', 'jobs/a.yaml'}


@pytest.mark.parametrize(('where', 'named'), [
    pytest.param('jobs/.a.yaml.jobsync-tmp', 'its temporary name jobs/.a.yaml.jobsync-tmp is a symbolic link',
                 id='link-at-temp-name'),
    pytest.param('jobs/a.yaml', 'the file jobs/a.yaml is a symbolic link', id='link-at-target'),
])
def test_a_link_at_the_target_or_temporary_name_is_refused(repo: Path, outside: Path, where: str,
                                                           named: str) -> None:
    (repo / 'jobs').mkdir()
    (repo / where).symlink_to(outside)
    before = _files_under(repo)
    with pytest.raises(safewrite.UnsafePathError) as caught:
        safewrite.write_files(repo, {'connections/x.yaml': b'x: 1\n', 'jobs/a.yaml': b'pwned\n'})
    assert named in str(caught.value) and 'nothing was written' in str(caught.value)
    assert outside.read_bytes() == SECRET and (repo / where).is_symlink()
    assert _files_under(repo) == before  # not even the other, harmless file


def test_a_linked_folder_is_refused(repo: Path, outside: Path) -> None:
    (repo / 'jobs').symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(safewrite.UnsafePathError, match='refusing to write jobs/victim: jobs is a symbolic link'):
        safewrite.write_files(repo, {'jobs/victim': b'pwned\n'})
    assert outside.read_bytes() == SECRET and list(outside.parent.iterdir()) == [outside]


def test_a_link_that_appears_after_the_checks_is_not_followed(repo: Path, outside: Path) -> None:
    # The checks passed (nothing there); then a link appears: the write opens folders with O_NOFOLLOW.
    safewrite.check_paths(repo, ['jobs/victim'])
    (repo / 'jobs').symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(safewrite.UnsafePathError, match='jobs is a symbolic link or not a directory'):
        safewrite._write_one(repo.resolve(), 'jobs/victim', b'pwned\n')
    assert outside.read_bytes() == SECRET


@pytest.mark.parametrize(('rel', 'why'), [
    pytest.param('../x.yaml', 'not a plain relative path', id='dot-dot'),
    pytest.param('jobs/../../x.yaml', 'not a plain relative path', id='dot-dot-inside'),
    pytest.param('/etc/x.yaml', 'not a plain relative path', id='absolute'),
    pytest.param('jobs//x.yaml', 'not a plain relative path', id='empty-part'),
    pytest.param('jobs/a\0b.yaml', 'NUL', id='nul'),
    pytest.param('jobs/a\\b.yaml', 'backslash', id='backslash'),
    pytest.param(f'jobs/{"n" * 251}.yaml', 'longer than 255 bytes', id='name-too-long'),
    pytest.param(f'jobs/{"n" * 240}.yaml', 'longer than 255 bytes', id='temp-name-too-long'),
    pytest.param('jobs/' + '/'.join(['d' * 200] * 25) + '/x.yaml', 'path is longer than 4095', id='path-too-long'),
])
def test_an_invalid_or_too_long_path_is_found_before_anything_is_written(repo: Path, rel: str, why: str) -> None:
    with pytest.raises(safewrite.UnsafePathError, match=why):
        safewrite.write_files(repo, {'connections/a.yaml': b'a: 1\n', rel: b'x\n'})
    assert _files_under(repo) == {'README.md'}


def test_something_other_than_a_file_at_the_target_is_refused(repo: Path) -> None:
    (repo / 'jobs' / 'a.yaml').mkdir(parents=True)
    os.mkfifo(repo / 'jobs' / 'b.yaml')
    for rel in ('jobs/a.yaml', 'jobs/b.yaml'):
        with pytest.raises(safewrite.UnsafePathError, match=f'the file {rel} is not a regular file'):
            safewrite.write_files(repo, {rel: b'x\n'})


# --- through the commands ------------------------------------------------------------------------

def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_export_refuses_a_committed_link_at_the_temporary_name(tmp_path: Path, outside: Path) -> None:
    ws = LocalWorkspace(tmp_path / 'console.db')
    ws.import_objects([(ObjectKey('job', 'daily'), job_spec('daily'))])
    ws.close()
    repo = tmp_path / 'repo'
    (repo / 'jobs').mkdir(parents=True)
    (repo / 'jobsync.yaml').write_text(f'targets:\n  prod:\n    workspace: local:{tmp_path / "console.db"}\n')
    (repo / 'jobs' / '.daily.yaml.jobsync-tmp').symlink_to(outside)
    git_commit_all(repo, 'a hostile link')
    code, output = _invoke('export', '--all', '--repo', str(repo))
    assert code == 1, output
    # The repo is refused as soon as it is read (gitrepo reads only regular files), before any write.
    assert 'jobs/.daily.yaml.jobsync-tmp: is a symbolic link' in output
    assert outside.read_bytes() == SECRET and not (repo / 'jobs' / 'daily.yaml').exists()
    assert 'Traceback' not in output


def test_import_bundle_refuses_a_linked_folder(tmp_path: Path, outside: Path) -> None:
    repo = tmp_path / 'repo'
    repo.mkdir()
    (repo / 'jobs').symlink_to(outside.parent, target_is_directory=True)
    git_commit_all(repo, 'a hostile link')
    bundle = tmp_path / 'daily.job'
    bundle.write_text(json.dumps(job_spec('daily')))
    code, output = _invoke('import-bundle', str(bundle), '--repo', str(repo))
    assert code == 1, output
    assert 'jobs: is a symbolic link' in output  # refused when the repo is read, before any write
    assert list(outside.parent.iterdir()) == [outside] and outside.read_bytes() == SECRET


def test_a_name_too_long_for_a_safe_write_is_that_objects_problem_only(repo: Path) -> None:
    # CDM job names may hold 240 characters (kinds.NAME_RULES): more than a file name leaves room for.
    longest = ObjectKey('cdm-job', 'j' * export.MAX_FILE_NAME_BYTES, 'c')
    too_long = ObjectKey('cdm-job', 'j' * (export.MAX_FILE_NAME_BYTES + 1), 'c')
    live = {k: LiveObject(k, cdm_job_spec(k.name, source='src', target='dst'), 0) for k in (longest, too_long)}
    result = export.export_objects(live, {})
    assert [d.where for d in result.refused] == [str(too_long)]
    assert safewrite.write_files(repo, result.files) == [f'cdm/c/jobs/{longest.name}.yaml']
