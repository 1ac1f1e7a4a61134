"""A saved plan applied a second time is told "already applied" (issue 16 item 7), not "stale"."""

from __future__ import annotations

from pathlib import Path

from conftest import EXAMPLE_SECRETS, run_jobsync

from jobsync.state import State, state_from_json, state_to_json


def test_saved_plan_applied_twice_says_already_applied(example_repo: Path, tmp_path: Path) -> None:
    plan_file = tmp_path / 'plan.json'
    assert run_jobsync('plan', '--repo', str(example_repo), '--out', str(plan_file)).code == 0
    first = run_jobsync('apply', str(plan_file), env=EXAMPLE_SECRETS, cwd=example_repo)
    assert first.code == 0, first
    again = run_jobsync('apply', str(plan_file), env=EXAMPLE_SECRETS, cwd=example_repo)
    # Like Terraform refusing a saved plan once the state moved on: exit 1, and the reason said plainly.
    assert again.code == 1, again
    assert 'already applied' in again.stderr and 'nothing was written' in again.stderr
    assert 'changed in the workspace' not in again.stderr and 'Traceback' not in again.stderr


def test_state_keeps_the_plan_digest() -> None:
    state = State('local', 3, {}, 1, 'abc', plan_digest='d' * 64)
    assert state_from_json(state_to_json(state), where='t').plan_digest == 'd' * 64
    assert 'plan_digest' not in state_to_json(State('local', 1, {}))
