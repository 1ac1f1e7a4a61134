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


def _jobs(repo: Path) -> set[str]:
    engine = Engine(repo / '.jobsync' / 'workspace.db')
    try:
        return {j['name'] for j in engine.list_jobs(limit=100)['jobs']}
    finally:
        engine.close()


def test_prune_refuses_a_script_a_job_still_uses_unless_the_job_goes_too_or_forced(example_repo: Path) -> None:
    repo = _applied(example_repo)
    for rel in ('scripts/doc1_sql.yaml', 'scripts/doc1_sql.sql'):
        (repo / rel).unlink()
    # jobs/doc1.yaml still runs doc1_sql (the workspace has it, so the reference resolves): pruning
    # the script would leave the job pointing nowhere.
    refused = run_jobsync('apply', '--repo', str(repo), '--prune', '--auto-approve', env=EXAMPLE_SECRETS)
    assert refused.code == 1, refused
    assert 'script/doc1_sql is used by job/doc1' in refused.stderr and '--force' in refused.stderr
    assert 'doc1_sql' in _scripts(repo)
    planned = run_jobsync('plan', '--repo', str(repo), '--prune')
    assert planned.code == 1 and 'script/doc1_sql is used by job/doc1' in planned.stderr, planned
    (repo / 'jobs' / 'doc1.yaml').unlink()  # the user deleted in the same run
    both = run_jobsync('plan', '--repo', str(repo), '--prune', '--detailed-exitcode')
    assert both.code == 2 and '- job/doc1' in both.stdout and '- script/doc1_sql' in both.stdout, both


def test_prune_counts_users_jobsync_does_not_manage(example_repo: Path) -> None:
    repo = _applied(example_repo)
    engine = Engine(repo / '.jobsync' / 'workspace.db')
    try:
        by_hand = {k: v for k, v in engine.show_job('doc1').items() if k not in ('id', 'version', 'createUser')}
        engine.create_job({**by_hand, 'name': 'by_hand'})
    finally:
        engine.close()
    for rel in ('scripts/doc1_sql.yaml', 'scripts/doc1_sql.sql', 'jobs/doc1.yaml'):
        (repo / rel).unlink()
    refused = run_jobsync('apply', '--repo', str(repo), '--prune', '--auto-approve', env=EXAMPLE_SECRETS)
    assert refused.code == 1 and 'script/doc1_sql is used by job/by_hand' in refused.stderr, refused
    assert {'doc1', 'by_hand'} <= _jobs(repo)
    forced = run_jobsync('apply', '--repo', str(repo), '--prune', '--force', '--auto-approve', env=EXAMPLE_SECRETS)
    assert forced.code == 0, forced
    assert 'doc1_sql' not in _scripts(repo) and 'doc1' not in _jobs(repo) and 'by_hand' in _jobs(repo)
