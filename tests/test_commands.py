"""The commands in-process: values in, values out, nothing printed, the environment passed in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from two_targets import DAILY, LOAD, copy_key, keys, make_repo, open_ws, status

from jobsync import selection
from jobsync.commands import console, flow, pull
from jobsync.errors import JobsyncError, PlanError, UsageError
from jobsync.events import Event, EventKind, Status
from jobsync.plan import Action, Plan
from jobsync.secrets import Redactor, default_resolver

JOBSYNC = Path(__file__).resolve().parents[1] / 'jobsync'


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def test_run_stop_and_groups_return_results_and_print_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events: list[Event] = []
    with console.open_target(repo, 'dev', {}) as opened:
        started = console.run(opened, console.Selection(('daily',)), on_event=events.append)
        found = console.groups(opened)
        stopped = console.stop(opened, console.Selection(('daily',)))
    assert started.ok and [(o.key, o.action, o.state) for o in started.outcomes] == [(DAILY, 'run', 'started')]
    assert [(e.kind, e.key, e.message) for e in events] == [(EventKind.STATUS, DAILY, 'started')]
    assert found == {('cdm-prod', 'nightly'): [copy_key('dev')]}
    assert stopped.ok and stopped.outcomes[0].state == 'stopped'
    assert status(repo, 'dev', DAILY) == 'STOPPED' and status(repo, 'main', DAILY) == 'STOPPED'
    assert capsys.readouterr() == ('', '')


def test_delete_is_planned_then_done_users_first(repo: Path) -> None:
    with console.open_target(repo, None, {}) as opened:
        planned = console.plan_delete(opened, console.Selection(('daily', 'script/load')), what='named')
        assert planned.order == (DAILY, LOAD) and planned.defined_in_git == {}
        assert DAILY in keys(repo, 'main')  # planning deletes nothing
        events: list[Event] = []
        result = console.delete(opened, planned, on_event=events.append)
    assert result.ok and [o.state for o in result.outcomes] == ['deleted', 'deleted']
    assert [e.outcome for e in events if e.kind is EventKind.OUTCOME] == list(result.outcomes)
    assert not {DAILY, LOAD} & keys(repo, 'main') and DAILY in keys(repo, 'dev')


def test_a_selection_naming_nothing_is_a_usage_error(repo: Path) -> None:
    with console.open_target(repo, None, {}) as opened, pytest.raises(UsageError, match='name the jobs'):
        console.run(opened, console.Selection())


def test_export_returns_what_it_would_write_and_a_real_export_writes_it(repo: Path) -> None:
    scope = selection.Scope(all=True)
    dry = pull.export_workspace(repo, 'dev', {}, scope, pull.Writing(dry_run=True))
    assert dry.written.dry_run and 'jobs/daily.yaml' in dry.written.files
    assert not (repo / 'jobs').exists()
    done = pull.export_workspace(repo, 'dev', {}, scope, pull.Writing(branch='pull', commit=True))
    assert (repo / 'jobs' / 'daily.yaml').is_file() and done.written.commit and done.written.branch == 'pull'
    assert {o.key for o in done.result.objects if o.status == 'added'} >= {DAILY, LOAD, copy_key('dev')}


def test_export_with_nothing_selected_is_a_usage_error(repo: Path) -> None:
    with pytest.raises(UsageError, match='say what to export'):
        pull.export_workspace(repo, None, {}, selection.Scope(), pull.Writing())


def test_drift_reports_console_objects_of_the_target_it_is_given(repo: Path) -> None:
    drifted = pull.detect(repo, None, 'dev', {})
    assert drifted.report.target == 'dev' and drifted.report.has_drift
    assert copy_key('dev') in {i.key for i in drifted.report.items}


def test_plan_then_apply_the_saved_plan_then_apply_from_the_repo(repo: Path) -> None:
    pull.export_workspace(repo, 'dev', {}, selection.Scope(all=True), pull.Writing(commit=True))
    resolver = default_resolver(Redactor(), {'DWS_PASSWORD': 'p-1234', 'SRC_PASSWORD': 'p-5678'})
    planned = flow.plan(repo, None, None, {})  # main lacks copy_dev: git now defines it
    assert [(c.key, c.action) for c in planned.plan.actionable] == [(copy_key('dev'), Action.CREATE)]
    saved = flow.apply_saved(planned.plan, None, {}, root=repo, resolver=resolver, locking=flow.Locking('tests'))
    assert saved.applied.ok and [(o.key, o.status) for o in saved.applied.result.outcomes] == [
        (copy_key('dev'), Status.APPLIED)]
    assert copy_key('dev') in keys(repo, 'main')
    with pytest.raises(PlanError, match='already applied'):  # the same saved plan again (issue 16 item 7)
        flow.apply_saved(planned.plan, None, {}, root=repo, resolver=resolver, locking=flow.Locking('tests'))
    shown: list[Plan] = []
    run = flow.apply(repo, None, None, {}, resolver=resolver, locking=flow.Locking('tests'), confirm=shown.append)
    assert [p.writes for p in shown] == [()] and run.applied.result.outcomes == ()


def test_apply_stops_when_confirm_says_no(repo: Path) -> None:
    pull.export_workspace(repo, 'dev', {}, selection.Scope(all=True), pull.Writing(commit=True))

    def refuse(_: Plan) -> None:
        raise JobsyncError('no')

    with pytest.raises(JobsyncError, match='no'):
        flow.apply(repo, None, None, {}, resolver=default_resolver(Redactor(), {}), locking=flow.Locking('tests'),
                   confirm=refuse)
    assert copy_key('dev') not in keys(repo, 'main')
    ws = open_ws(repo, 'main')
    try:  # the lock was released
        ws.release_lock(ws.acquire_lock('main', 'next', '', 1000))
    finally:
        ws.close()


def test_validate_checks_secrets_with_the_resolver_it_is_given(repo: Path) -> None:
    pull.export_workspace(repo, 'dev', {}, selection.Scope(all=True), pull.Writing(commit=True))
    checked = flow.validate(repo, None, None, {}, resolver=default_resolver(Redactor(), {'DWS_PASSWORD': 'p-1234'}))
    assert len(checked.loaded.result.desired) == 5
    assert [p.split(':', 3)[2] for p in checked.secret_problems] == ['SRC_PASSWORD}']


def test_credentials_come_from_the_env_passed_in_not_the_process(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / 'jobsync.yaml').write_text(
        'default_target: svc\ntargets:\n  svc:\n    workspace: dataarts\n    dataarts:\n'
        '      project_id: 0123456789abcdef0123456789abcdef\n      workspace_id: ws-1\n'
        '      endpoints: {factory: "http://127.0.0.1:9", management: "http://127.0.0.1:9", cdm: "http://127.0.0.1:9"}\n',
        encoding='utf-8')
    monkeypatch.setenv('HUAWEICLOUD_SDK_AK', 'AKPROCESS')
    monkeypatch.setenv('HUAWEICLOUD_SDK_SK', 'SKPROCESS')
    with pytest.raises(JobsyncError, match='credentials'):
        flow.plan(repo, None, None, {})


def test_commands_read_no_environment() -> None:
    for path in [*sorted((JOBSYNC / 'commands').glob('*.py')), JOBSYNC / 'workspace' / 'connect.py']:
        text = path.read_text(encoding='utf-8')
        assert not re.search(r'os\.environ|getenv|import os\b', text), path
