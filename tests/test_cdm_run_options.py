"""Issue 11: overwriting a running CDM job from the command line. `plan` names it; `apply` refuses
it with a clear message, or stops its run with `--stop-running-cdm-jobs`; `--cdm-wait` bounds a
wait for the run (over the target's `cdm_wait_seconds`). The run lasts because it was started by a
workspace whose CDM runs last (the engine's `cdm_run_ms`, stored with the run): nothing waits on a clock."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync

from jobsync.commands import flow
from jobsync.model import ObjectKey
from jobsync.workspace.cdmruns import CdmRunPolicy
from jobsync.workspace.local import LocalWorkspace

ORDERS = ObjectKey('cdm-job', 'orders', 'cdm-prod')
FOREVER_MS = 10 ** 12
ENV = dict(EXAMPLE_SECRETS)


def _running_and_changed(repo: Path) -> LocalWorkspace:
    applied = run_jobsync('apply', '--repo', str(repo), '--auto-approve', env=ENV)
    assert applied.code == 0, applied
    ws = LocalWorkspace(repo / '.jobsync' / 'workspace.db', cdm_run_ms=FOREVER_MS)
    ws.start_job(ORDERS)
    assert ws.job_status(ORDERS) in ('BOOTING', 'RUNNING')
    path = repo / 'cdm' / 'cdm-prod' / 'jobs' / 'orders.yaml'
    path.write_text(path.read_text(encoding='utf-8').replace('numExtractors: "4"', 'numExtractors: "8"'),
                    encoding='utf-8')
    git_commit_all(repo, 'more extractors')
    return ws


def test_plan_names_it_and_apply_refuses_it_by_default(example_repo: Path) -> None:
    ws = _running_and_changed(example_repo)
    try:
        planned = run_jobsync('plan', '--repo', str(example_repo), env=ENV)
        assert planned.code == 0, planned
        assert 'these CDM jobs are running' in planned.stdout and str(ORDERS) in planned.stdout
        assert '--stop-running-cdm-jobs' in planned.stdout
        refused = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=ENV)
        assert refused.code == 1, refused
        assert 'running (copying data)' in refused.stdout + refused.stderr
        assert '--stop-running-cdm-jobs' in refused.stdout + refused.stderr
        assert ws.job_status(ORDERS) in ('BOOTING', 'RUNNING')  # the copy goes on
    finally:
        ws.close()


def test_apply_stops_the_run_when_asked_and_does_not_restart_it(example_repo: Path) -> None:
    ws = _running_and_changed(example_repo)
    try:
        applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', '--stop-running-cdm-jobs',
                              env=ENV)
        assert applied.code == 0, applied
        assert ws.job_status(ORDERS) not in ('BOOTING', 'RUNNING')
        again = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode', env=ENV)
        assert again.code == 0, again
    finally:
        ws.close()


def test_cdm_wait_must_be_a_duration(example_repo: Path) -> None:
    result = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', '--cdm-wait', 'soon', env=ENV)
    assert result.code == 1
    assert "--cdm-wait 'soon' is not a duration" in result.stderr


def test_command_line_choices_go_over_the_target_settings(tmp_path: Path) -> None:
    ws = LocalWorkspace(tmp_path / 'ws.db')
    try:
        ws.cdm_runs = CdmRunPolicy(wait_seconds=30)  # as the target's cdm_wait_seconds would set it
        flow.with_cdm_runs(ws, flow.CdmRuns())
        assert (ws.cdm_runs.wait_seconds, ws.cdm_runs.stop_running) == (30, False)
        flow.with_cdm_runs(ws, flow.CdmRuns(wait_seconds=600.0))
        assert ws.cdm_runs.wait_seconds == 600
        flow.with_cdm_runs(ws, flow.CdmRuns(stop_running=True))
        assert (ws.cdm_runs.wait_seconds, ws.cdm_runs.stop_running) == (600, True)
    finally:
        ws.close()


def test_plan_does_not_import_the_workspace_layer() -> None:
    """Layering (issue 11): the plan's notes on running jobs come from a pure core module."""
    root = Path(__file__).resolve().parents[1] / 'jobsync'
    for module in ('plan.py', 'runnotes.py'):
        tree = ast.parse((root / module).read_text(encoding='utf-8'))
        imported = [n.module or '' for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [m for m in imported if m.startswith('jobsync.workspace')], (module, imported)
