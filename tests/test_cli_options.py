"""Issue 16 item 1: every option applies wherever a user writes it, and touches the workspace it names.

Each command runs with `--target dev --repo REPO` in every position (before and after its
arguments; for `groups`, before and after the sub-command, and split across both), from a
directory that is not the repo. Each case asserts that `dev` was touched, that the default target
`main` was not, and that nothing was created in the current directory.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git_commit_all
from two_targets import DAILY, copy_key, invoke, keys, make_repo, open_ws, status

R = '{repo}'  # replaced by the repo's path
DEV = ('--target', 'dev')
REPO = ('--repo', R)

Check = Callable[[Path, str, str], None]


def _positions(command: tuple[str, ...], args: tuple[str, ...]) -> list[tuple[str, ...]]:
    """`--target` and `--repo` before the arguments, after them, and one on each side."""
    return [(*command, *DEV, *REPO, *args), (*command, *args, *DEV, *REPO), (*command, *DEV, *args, *REPO)]


def _group_positions(args: tuple[str, ...]) -> list[tuple[str, ...]]:
    """`groups delete`: the options before `delete`, after it, after its arguments, and split."""
    return [('groups', *DEV, *REPO, 'delete', *args), ('groups', 'delete', *DEV, *REPO, *args),
            ('groups', 'delete', *args, *DEV, *REPO), ('groups', *DEV, 'delete', *args, *REPO),
            ('groups', *REPO, 'delete', *DEV, *args)]


def _ran_in_dev(repo: Path, out: str, err: str) -> None:
    assert f'{repo / ".jobsync" / "dev.db"}' in out and 'main.db' not in out + err


def _started_in_dev(repo: Path, out: str, err: str) -> None:
    assert (status(repo, 'dev', DAILY), status(repo, 'main', DAILY)) == ('SCHEDULING', 'STOPPED'), out + err


def _stopped_in_dev(repo: Path, out: str, err: str) -> None:
    assert (status(repo, 'dev', DAILY), status(repo, 'main', DAILY)) == ('STOPPED', 'SCHEDULING'), out + err


def _deleted_in_dev(repo: Path, out: str, err: str) -> None:
    assert DAILY not in keys(repo, 'dev') and DAILY in keys(repo, 'main'), out + err


def _group_deleted_in_dev(repo: Path, out: str, err: str) -> None:
    assert copy_key('dev') not in keys(repo, 'dev') and copy_key('main') in keys(repo, 'main'), out + err


def _listed_dev(repo: Path, out: str, err: str) -> None:
    assert 'copy_dev' in out and 'copy_main' not in out, out + err


def _validated_dev(repo: Path, out: str, err: str) -> None:
    assert 'valid for target dev' in out, out + err


def _versions_of_dev(repo: Path, out: str, err: str) -> None:
    assert 'job/daily: version 3 ' in out, out + err  # dev's job was updated twice; main's is at 1


def _unlocked_dev(repo: Path, out: str, err: str) -> None:
    assert 'Freed the lock' in out and 'on target dev' in out, out + err


CASES: list[tuple[str, tuple[str, ...], Check, int]] = [
    *((f'plan-{i}', a, _ran_in_dev, 0) for i, a in enumerate(_positions(('plan',), ('--format', 'text')))),
    *((f'apply-{i}', a, _ran_in_dev, 0) for i, a in enumerate(_positions(('apply',), ('--auto-approve',)))),
    *((f'drift-{i}', a, _ran_in_dev, 2) for i, a in enumerate(_positions(('drift',), ('--format', 'text')))),
    *((f'export-{i}', a, _ran_in_dev, 0) for i, a in enumerate(_positions(('export',), ('--all', '--dry-run')))),
    *((f'validate-{i}', a, _validated_dev, 0) for i, a in enumerate(_positions(('validate',), ('--online',)))),
    *((f'run-{i}', a, _started_in_dev, 0) for i, a in enumerate(_positions(('run',), ('daily',)))),
    *((f'stop-{i}', a, _stopped_in_dev, 0) for i, a in enumerate(_positions(('stop',), ('daily',)))),
    *((f'delete-{i}', a, _deleted_in_dev, 0) for i, a in enumerate(_positions(('delete',), ('daily', '--yes')))),
    *((f'groups-{i}', a, _listed_dev, 0) for i, a in enumerate(_positions(('groups',), ('--format', 'text')))),
    *((f'groups-delete-{i}', a, _group_deleted_in_dev, 0)
      for i, a in enumerate(_group_positions(('nightly', '--yes')))),
    *((f'force-unlock-{i}', a, _unlocked_dev, 0) for i, a in enumerate(_positions(('force-unlock',), ('{lock}',)))),
    *((f'versions-{i}', a, _versions_of_dev, 0) for i, a in enumerate(_positions(('versions',), ('daily',)))),
]


@pytest.mark.parametrize(('args', 'check', 'code'), [pytest.param(a, c, n, id=i) for i, a, c, n in CASES])
def test_target_and_repo_apply_in_every_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], check: Check, code: int,
) -> None:
    repo = make_repo(tmp_path)
    for target in ('main', 'dev'):  # `stop` needs running jobs; the others do not mind
        if args[0] == 'stop':
            ws = open_ws(repo, target)
            ws.start_job(DAILY)
            ws.close()
    if args[0] == 'versions':  # dev's job at version 3, main's at 1
        ws = open_ws(repo, 'dev')
        spec = {k: v for k, v in ws.engine.show_job('daily').items() if k not in ('id', 'version', 'lastUpdateUser')}
        ws.engine.update_job('daily', spec)
        ws.engine.update_job('daily', spec)
        ws.close()
    lock_id = ''
    if args[0] == 'force-unlock':
        ws = open_ws(repo, 'dev')
        lock_id = ws.acquire_lock('dev', 'someone', '', 60_000).id
        ws.close()
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    ran = invoke(*(a.replace(R, str(repo)).replace('{lock}', lock_id) for a in args))
    assert ran.code == code, ran
    check(repo, ran.stdout, ran.stderr)
    assert list(elsewhere.iterdir()) == []  # nothing created where the command ran


def test_the_same_option_twice_with_different_values_is_a_usage_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    ran = invoke('groups', '--target', 'dev', 'delete', 'nightly', '--target', 'main', '--repo', str(repo), '--yes')
    assert ran.code == 64 and '--target given twice' in ran.stderr, ran
    assert copy_key('dev') in keys(repo, 'dev') and copy_key('main') in keys(repo, 'main')


def test_groups_options_before_the_sub_command_are_the_defaults_of_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    ran = invoke('groups', '--repo', str(repo), '--target', 'dev', '--format', 'json', 'delete', 'nightly', '--yes')
    assert ran.code == 0, ran
    assert '"ok": true' in ran.stdout


@pytest.mark.parametrize(('args', 'name'), [
    (('run', 'daily'), 'run'), (('stop', 'daily'), 'stop'), (('delete', 'daily', '--yes'), 'delete'),
    (('groups',), 'groups'), (('groups', 'delete', 'nightly', '--yes'), 'groups delete'),
    (('import-bundle', 'missing.zip'), 'import-bundle'),
])
def test_a_format_the_command_has_no_renderer_for_is_a_usage_error(
    tmp_path: Path, args: tuple[str, ...], name: str,
) -> None:
    repo = make_repo(tmp_path)
    ran = invoke(*args, '--repo', str(repo), '--format', 'markdown')
    assert ran.code == 64, ran
    assert f'`jobsync {name}` has no markdown output; --format takes text, json.' in ran.stderr
    assert DAILY in keys(repo, 'main') and copy_key('main') in keys(repo, 'main')  # nothing done


@pytest.mark.parametrize('args', [('plan',), ('drift',), ('export', '--all', '--dry-run'), ('apply', '--auto-approve')])
def test_markdown_is_rendered_where_a_reader_wants_it(tmp_path: Path, args: tuple[str, ...]) -> None:
    repo = make_repo(tmp_path)
    ran = invoke(*args, '--repo', str(repo), '--format', 'markdown')
    assert ran.code in (0, 2), ran
    assert ran.stdout.startswith(('<!-- jobsync-plan', '### ')), ran


def test_an_error_echoing_a_hostile_name_reaches_the_terminal_escaped(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    ran = invoke('run', 'x\x1b]0;owned\x07\r\u202eevil', '--repo', str(repo))
    assert ran.code == 1, ran
    assert 'x\\x1b]0;owned\\x07\\x0d\\u202eevil: not in the workspace' in ran.stderr
    assert '\x1b' not in ran.stderr and '\r' not in ran.stderr and '\u202e' not in ran.stderr


@pytest.mark.parametrize('position', range(3))
def test_import_bundle_takes_target_and_repo_in_every_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, position: int,
) -> None:
    """import-bundle writes the repo named by --repo and undoes the remapping of the --target named."""
    repo = make_repo(tmp_path)
    config = repo / 'jobsync.yaml'
    config.write_text(config.read_text().replace('  dev:\n', '  dev:\n    remap:\n      connections: {dws: dws_dev}\n'))
    git_commit_all(repo, 'dev names the connection dws_dev')
    bundle = tmp_path / 'bundle.zip'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        archive.writestr('scripts/adhoc.script', json.dumps(
            {'name': 'adhoc', 'type': 'DWSSQL', 'connectionName': 'dws_dev', 'content': 'SELECT 2;\n'}))
    bundle.write_bytes(buffer.getvalue())
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    args = _positions(('import-bundle',), (str(bundle),))[position]
    ran = invoke(*(a.replace(R, str(repo)) for a in args))
    assert ran.code == 0, ran
    assert 'connectionName: dws\n' in (repo / 'scripts' / 'adhoc.yaml').read_text()  # dev's name undone
    assert list(elsewhere.iterdir()) == []
