"""--prune: only what the state says jobsync manages, only inside the target's scope, in reverse
dependency order, and never a mass deletion by accident."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync

from jobsync import commands
from jobsync.errors import PlanError
from jobsync.model import LiveObject, ObjectKey
from jobsync.plan import Action, Plan, PlanOptions, Take, make_plan
from jobsync.scope import Scope
from jobsync.secrets import Redactor, default_resolver
from jobsync.state import ObjectState, State
from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.service import Engine

DOC1, JOB_BATCH = ObjectKey('job', 'doc1'), ObjectKey('job', 'job_batch')
DOC1_SQL, DWS_SQL = ObjectKey('script', 'doc1_sql'), ObjectKey('script', 'dws_sql')
REMOVED = ('jobs/doc1.yaml', 'jobs/job_batch.yaml', 'scripts/doc1_sql.yaml', 'scripts/doc1_sql.sql',
           'scripts/dws_sql.yaml', 'scripts/dws_sql.sql')


@pytest.fixture
def ws(example_repo: Path) -> Iterator[LocalWorkspace]:
    workspace = LocalWorkspace(example_repo / '.jobsync' / 'workspace.db')
    yield workspace
    workspace.close()


def plan(repo: Path, ws: LocalWorkspace, **choices: Any) -> Plan:
    loaded = commands.load(repo, None, None)
    return commands.plan_command(loaded, ws, options=commands.plan_options(loaded.target, **choices))


def apply(repo: Path, ws: LocalWorkspace, **choices: Any) -> commands.Applied:
    resolver = default_resolver(Redactor(), EXAMPLE_SECRETS)
    return commands.apply_command(plan(repo, ws, **choices), ws, resolver, lambda e: None)


def remove(repo: Path, *paths: str) -> None:
    for rel in paths:
        (repo / rel).unlink()


def test_without_prune_removed_objects_are_reported_not_deleted(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    remove(example_repo, *REMOVED)
    the_plan = plan(example_repo, ws)
    assert not the_plan.writes
    assert (str(the_plan.orphans[0].key), the_plan.orphans[0].reason) == (
        'script/doc1_sql', 'removed from git; apply --prune deletes it')
    assert {o.key for o in the_plan.orphans} == {DOC1, JOB_BATCH, DOC1_SQL, DWS_SQL}


def test_prune_deletes_in_reverse_dependency_order(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    remove(example_repo, *REMOVED)
    the_plan = plan(example_repo, ws, prune=True)
    assert [[str(k) for k in b] for b in the_plan.batches] == [
        ['job/doc1'], ['job/job_batch'], ['script/doc1_sql', 'script/dws_sql']]  # doc1 depends on job_batch
    assert the_plan.change(JOB_BATCH).requires == (DOC1,)
    applied = apply(example_repo, ws, prune=True)
    assert applied.result.ok and len(applied.result.outcomes) == 4
    assert applied.state is not None and not {DOC1, JOB_BATCH, DOC1_SQL, DWS_SQL} & set(applied.state.objects)
    assert not plan(example_repo, ws, prune=True).has_changes


def test_prune_never_touches_what_jobsync_does_not_manage(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    Engine(ws.path).create_script({'name': 'by_hand', 'type': 'Shell', 'content': 'echo hi'})
    the_plan = plan(example_repo, ws, prune=True)
    assert not the_plan.writes and the_plan.unmanaged == (ObjectKey('script', 'by_hand'),)


def _managed(*objects: tuple[ObjectKey, dict[str, Any]]) -> tuple[State, dict[ObjectKey, LiveObject]]:
    """A state managing `objects` (unchanged since), and the workspace holding them."""
    entries = {key: ObjectState(100 + i, f'sha256:{i:064x}', f'sha256:{i:064x}', 'abc')
               for i, (key, _) in enumerate(objects)}
    live = {key: LiveObject(key, spec, 100 + i) for i, (key, spec) in enumerate(objects)}
    return State('t', 1, entries), live


def _prune_plan(state: State, live: dict[ObjectKey, LiveObject], scope: Scope, *,
                directories: dict[ObjectKey, str] | None = None) -> Plan:
    options = PlanOptions(prune=True, scope=scope, allow_mass_delete=True)
    listed = {key: entry.fingerprint for key, entry in state.objects.items()}
    return make_plan({}, live, repo_rev='abc', target='t', workspace='local:x', max_objects=100,
                     max_bytes=1 << 20, size_of=lambda items: 0, state=state, options=options,
                     listed=listed, directories=directories)


REPORTS_JOB = (ObjectKey('job', 'daily_report'), {'name': 'daily_report', 'directory': '/reports/daily'})
MART_JOB = (ObjectKey('job', 'mart'), {'name': 'mart', 'directory': '/marts'})
REPORTS_SQL = (ObjectKey('script', 'report_sql'), {'name': 'report_sql', 'directory': '/reports'})
CONN = (ObjectKey('connection', 'dws'), {'dw_name': 'dws'})


def test_prune_stays_inside_the_directories_of_the_scope() -> None:
    state, live = _managed(REPORTS_JOB, MART_JOB, REPORTS_SQL, CONN)
    the_plan = _prune_plan(state, live, Scope(directories=('/reports',)))
    assert [c.key for c in the_plan.writes] == [CONN[0], REPORTS_SQL[0], REPORTS_JOB[0]]  # no folder: inside
    outside = {o.key: o.reason for o in the_plan.orphans}
    assert set(outside) == {MART_JOB[0]}
    assert "outside the target's scope (directories /reports)" in outside[MART_JOB[0]]


def test_name_prefixes_scope_every_kind() -> None:
    state, live = _managed(REPORTS_JOB, MART_JOB, REPORTS_SQL, CONN)
    the_plan = _prune_plan(state, live, Scope(prefixes=('report', 'daily_')))
    assert {c.key for c in the_plan.writes} == {REPORTS_JOB[0], REPORTS_SQL[0]}


def test_an_unknown_directory_counts_as_outside() -> None:
    state, _live = _managed(REPORTS_JOB, MART_JOB)
    # Neither content nor a directory from the listing: never prune what cannot be placed.
    the_plan = _prune_plan(state, {}, Scope(directories=('/reports',)))
    assert not the_plan.writes
    listed = _prune_plan(state, {}, Scope(directories=('/reports',)),
                         directories={REPORTS_JOB[0]: '/reports/daily', MART_JOB[0]: '/marts'})
    assert [c.key for c in listed.writes] == [REPORTS_JOB[0]]


def test_mass_deletion_is_refused_unless_allowed(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    for folder in ('jobs', 'scripts'):
        for path in (example_repo / folder).iterdir():
            path.unlink()
    with pytest.raises(PlanError, match='deletes 12 of the 22 objects jobsync manages in target local') as err:
        plan(example_repo, ws, prune=True)
    assert '--allow-mass-delete' in err.value.hint
    allowed = plan(example_repo, ws, prune=True, allow_mass_delete=True)
    assert sum(1 for c in allowed.writes if c.action is Action.DELETE) == 12
    assert [b[0].kind for b in allowed.batches] == ['job'] * 3 + ['script']  # job waves, then scripts


def test_removed_from_git_and_changed_in_the_workspace_is_a_conflict(example_repo: Path, ws: LocalWorkspace) -> None:
    apply(example_repo, ws)
    remove(example_repo, 'scripts/doc1_sql.yaml', 'scripts/doc1_sql.sql', 'jobs/doc1.yaml')
    engine = Engine(ws.path)
    spec = engine.show_script('doc1_sql')
    engine.update_script('doc1_sql', {**{k: v for k, v in spec.items() if k not in ('id', 'version', 'createUser')},
                                      'content': 'SELECT 2;'})
    the_plan = plan(example_repo, ws, prune=True)
    assert the_plan.change(DOC1_SQL).action is Action.CONFLICT
    assert 'prune would lose that change' in the_plan.change(DOC1_SQL).reason
    assert plan(example_repo, ws, prune=True, take=Take.GIT).change(DOC1_SQL).action is Action.DELETE
    assert plan(example_repo, ws, prune=True, take=Take.LIVE).change(DOC1_SQL).action is Action.EXPORT


def test_prune_without_state_deletes_nothing_and_says_why(example_repo: Path, ws: LocalWorkspace) -> None:
    Engine(ws.path).create_script({'name': 'by_hand', 'type': 'Shell', 'content': 'echo hi'})
    the_plan = plan(example_repo, ws, prune=True)
    assert not any(c.action is Action.DELETE for c in the_plan.changes)
    assert 'has no state' in the_plan.notes[0]


def test_apply_prune_through_the_command_line(example_repo: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    remove(example_repo, *REMOVED)
    git_commit_all(example_repo, 'retire the sales mart')
    planned = run_jobsync('plan', '--repo', str(example_repo), '--prune', '--detailed-exitcode')
    assert planned.code == 2, planned
    assert '- job/doc1  (managed by jobsync and removed from git (--prune))' in planned.stdout
    applied = run_jobsync('apply', '--repo', str(example_repo), '--prune', '--auto-approve', env=EXAMPLE_SECRETS)
    assert applied.code == 0 and 'Apply: 4 applied, 0 failed, 0 skipped.' in applied.stdout, applied
    again = run_jobsync('plan', '--repo', str(example_repo), '--prune', '--detailed-exitcode')
    assert again.code == 0, again
