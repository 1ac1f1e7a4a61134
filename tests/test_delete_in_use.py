"""`delete` refuses to delete what another workspace object still uses (issue 16 item 5)."""

from __future__ import annotations

from pathlib import Path

from conftest import EXAMPLE_SECRETS, run_jobsync

from jobsync.workspace.service import Engine


def _scripts(repo: Path) -> set[str]:
    engine = Engine(repo / '.jobsync' / 'workspace.db')
    try:
        return {s['name'] for s in engine.list_scripts(limit=100)['scripts']}
    finally:
        engine.close()


def _applied(repo: Path) -> Path:
    assert run_jobsync('apply', '--repo', str(repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    return repo


def test_delete_of_a_used_script_is_refused_naming_the_user(example_repo: Path) -> None:
    repo = _applied(example_repo)
    refused = run_jobsync('delete', 'script/merge_orders', '--repo', str(repo), '--yes')
    assert refused.code == 1, refused
    assert 'script/merge_orders is used by job/mysql_to_dws_daily' in refused.stderr
    assert '--force' in refused.stderr and 'Traceback' not in refused.stderr
    assert 'merge_orders' in _scripts(repo)


def test_delete_with_its_user_in_the_same_run_or_forced(example_repo: Path) -> None:
    repo = _applied(example_repo)
    both = run_jobsync('delete', 'script/doc1_sql', 'job/doc1', '--repo', str(repo), '--yes')
    assert both.code == 0, both
    assert 'doc1_sql' not in _scripts(repo)
    forced = run_jobsync('delete', 'script/merge_orders', '--force', '--repo', str(repo), '--yes')
    assert forced.code == 0, forced
    assert 'merge_orders' not in _scripts(repo)
