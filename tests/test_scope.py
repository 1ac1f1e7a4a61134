"""Scope: two teams share one workspace, and neither sees the other's objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobsync import commands, secrets
from jobsync.model import ObjectKey
from jobsync.plan import Plan
from jobsync.scope import Scope, in_scope, may_be_in_scope, parse_scope

TEAM_A = Scope(directories=('/team_a/',), prefixes=('team_a_',))
DIRS_ONLY = Scope(directories=('/team_a',))


@pytest.mark.parametrize(
    ('key', 'spec', 'scope', 'inside'),
    (
        pytest.param(ObjectKey('job', 'team_a_daily'), {'directory': '/team_a'}, TEAM_A, True, id='dir-and-prefix'),
        pytest.param(ObjectKey('job', 'team_a_daily'), {'directory': '/team_a/etl/x'}, TEAM_A, True, id='below-dir'),
        pytest.param(ObjectKey('job', 'team_a_daily'), {'directory': '/team_ab'}, TEAM_A, False, id='dir-lookalike'),
        pytest.param(ObjectKey('job', 'team_a_daily'), {}, TEAM_A, False, id='no-directory-is-root'),
        pytest.param(ObjectKey('job', 'daily'), {'directory': '/team_a'}, TEAM_A, False, id='prefix-missing'),
        pytest.param(ObjectKey('connection', 'team_a_dws'), {}, TEAM_A, True, id='connection-by-prefix'),
        pytest.param(ObjectKey('connection', 'shared_dws'), {}, TEAM_A, False, id='connection-other-prefix'),
        pytest.param(ObjectKey('connection', 'shared_dws'), {}, DIRS_ONLY, True, id='connection-no-prefixes'),
        pytest.param(ObjectKey('cdm-job', 'team_a_copy', 'c1'), {}, TEAM_A, True, id='cdm-by-prefix'),
        pytest.param(ObjectKey('script', 'x'), {'directory': 'team_a/sql/'}, DIRS_ONLY, True, id='relative-dir'),
        pytest.param(ObjectKey('script', 'x'), {'directory': '/'}, Scope(directories=('/',)), True, id='root-scope'),
        pytest.param(ObjectKey('resource', 'x'), {'directory': '/b'}, Scope(), True, id='empty-scope'),
    ),
)
def test_in_scope(key: ObjectKey, spec: dict[str, str], scope: Scope, inside: bool) -> None:
    assert in_scope(key, spec, scope) is inside
    if inside:
        assert may_be_in_scope(key, scope)


def test_parse_scope() -> None:
    assert parse_scope(None) == Scope()
    assert parse_scope({'prefixes': ['a_']}) == Scope((), ('a_',))


JOB = """processType: BATCH
directory: {directory}
schedule: {{type: EXECUTE_ONCE}}
nodes: [{{name: a, type: Dummy}}]
"""


def team_repo(root: Path, team: str, shared: Path, *, scoped: bool = True) -> Path:
    repo = root / team
    (repo / 'jobs').mkdir(parents=True)
    scope = f'    scope: {{directories: [/{team}/], prefixes: [{team}_]}}\n' if scoped else ''
    (repo / 'jobsync.yaml').write_text(f'targets:\n  shared:\n    workspace: local:{shared}\n{scope}')
    for name in ('daily', 'hourly'):
        (repo / 'jobs' / f'{team}_{name}.yaml').write_text(JOB.format(directory=f'/{team}/etl'))
    return repo


def apply(repo: Path) -> None:
    loaded, workspace = commands.load_online(repo, None, None, {})
    try:
        plan = commands.plan_command(loaded, workspace)
        resolver = secrets.default_resolver(secrets.Redactor(), {})
        assert commands.apply_command(plan, workspace, resolver, lambda _: None).ok
    finally:
        workspace.close()


def plan_of(repo: Path) -> Plan:
    loaded, workspace = commands.load_online(repo, None, None, {})
    try:
        return commands.plan_command(loaded, workspace)
    finally:
        workspace.close()


def test_two_teams_share_a_workspace_without_seeing_each_other(tmp_path: Path) -> None:
    shared = tmp_path / 'shared.db'
    team_a, team_b = team_repo(tmp_path, 'team_a', shared), team_repo(tmp_path, 'team_b', shared)
    apply(team_a)
    apply(team_b)
    for repo in (team_a, team_b):
        plan = plan_of(repo)
        assert not plan.has_changes and plan.unmanaged == ()
    # A job of team_a's that git no longer defines is reported to team_a only: as managed by
    # jobsync and removed from git (team_a's state knows it applied it), for --prune to delete.
    (team_a / 'jobs' / 'team_a_hourly.yaml').unlink()
    assert [o.key for o in plan_of(team_a).orphans] == [ObjectKey('job', 'team_a_hourly')]
    assert plan_of(team_a).unmanaged == ()
    assert plan_of(team_b).unmanaged == () and plan_of(team_b).orphans == ()
    # Without a scope, everyone else's objects are unmanaged.
    everything = team_repo(tmp_path / 'unscoped', 'team_c', shared, scoped=False)
    assert {str(k) for k in plan_of(everything).unmanaged} == {
        'job/team_a_daily', 'job/team_a_hourly', 'job/team_b_daily', 'job/team_b_hourly'}


def test_objects_outside_scope_are_not_read(tmp_path: Path) -> None:
    shared = tmp_path / 'shared.db'
    team_a, team_b = team_repo(tmp_path, 'team_a', shared), team_repo(tmp_path, 'team_b', shared)
    apply(team_b)
    plan = plan_of(team_a)
    # One list round, and no batch export: team_b's jobs are ruled out by their names.
    assert 'POST /v1/{pid}/jobs/batch-export' not in plan.api_calls
