"""The main job end to end, through the real command on a real git repo and SQLite workspace."""

from __future__ import annotations

from pathlib import Path

from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync


def test_apply_then_plan_has_nothing_to_do(example_repo: Path) -> None:
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert applied.code == 0, applied
    assert 'Apply: 22 applied, 0 failed, 0 skipped.' in applied.stdout
    planned = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode')
    assert planned.code == 0, planned
    assert 'No changes. The workspace matches git.' in planned.stdout
    again = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve')
    assert again.code == 0 and 'Apply:' not in again.stdout, again


def test_one_cron_change_shows_exactly_that_field(example_repo: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    job = example_repo / 'jobs' / 'job_batch.yaml'
    job.write_text(job.read_text().replace('"0 0 2 * * ?"', '"0 30 2 * * ?"'))
    planned = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode')
    assert planned.code == 2, planned
    changed = [line for line in planned.stdout.splitlines() if line.startswith(('+', '~', '-', '    '))]
    assert changed == [
        '~ job/job_batch  (1 field differs from the workspace: changed in git)',
        '    ~ /schedule/cron/expression: "0 0 2 * * ?" -> "0 30 2 * * ?"',
    ]


def test_plan_reads_a_commit_not_the_checkout(example_repo: Path) -> None:
    first = git_commit_all(example_repo, 'same again')
    (example_repo / 'jobs' / 'doc1.yaml').unlink()
    planned = run_jobsync('plan', '--repo', str(example_repo), '--ref', first, '--format', 'json')
    assert planned.code == 0, planned
    assert '"key": "job/doc1"' in planned.stdout


def test_apply_without_terminal_needs_auto_approve(example_repo: Path) -> None:
    result = run_jobsync('apply', '--repo', str(example_repo), env=EXAMPLE_SECRETS, stdin='y\n')
    assert result.code == 1
    assert '--auto-approve' in result.stderr
    after = run_jobsync('plan', '--repo', str(example_repo), '--format', 'json')
    assert '"create": 22' in after.stdout  # nothing was written


def test_missing_secret_stops_before_any_write(example_repo: Path) -> None:
    partial = {k: v for k, v in EXAMPLE_SECRETS.items() if k != 'MYSQL_PASSWORD'}
    result = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=partial)
    assert result.code == 1
    assert '${secret:env:MYSQL_PASSWORD}' in result.stderr and 'nothing was written' in result.stderr
    after = run_jobsync('plan', '--repo', str(example_repo), '--format', 'json')
    assert '"create": 22' in after.stdout


def test_invalid_repo_reports_every_problem_without_traceback(tmp_path: Path) -> None:
    repo = tmp_path / 'bad'
    (repo / 'scripts').mkdir(parents=True)
    (repo / 'jobs').mkdir()
    (repo / 'scripts' / 'broken.yaml').write_text('type: DWSSQL\n  connectionName: [x\n')
    (repo / 'scripts' / 'good.yaml').write_text('type: Shell\nconnectionName: host\nretries: 3\n')
    (repo / 'scripts' / 'good.sh').write_text('echo hi\n')
    (repo / 'jobs' / 'daily.yaml').write_text(
        'processType: BATCH\nschedule: {type: EXECUTE_ONCE}\nnodes:\n  - name: a\n    type: Shell\n'
        '    properties: {scriptName: missing_script}\n')
    result = run_jobsync('validate', '--repo', str(repo))
    assert result.code == 1, result
    assert 'Traceback' not in result.stderr
    assert 'scripts/broken.yaml:2' in result.stderr and 'YAML syntax error' in result.stderr
    assert 'scripts/good.yaml:3#/retries' in result.stderr
    assert "jobs/daily.yaml:6#/nodes/0/properties/scriptName: script 'missing_script' is not defined" in result.stderr


def test_usage_error_is_not_changes_present() -> None:
    assert run_jobsync('plan', '--no-such-option').code == 64
