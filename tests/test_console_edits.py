"""A console edit of every kind is seen, with a state present, by `plan` and `drift` (issue 11).

Since the SDK-shaped lists carry no update time for scripts, resources and connections, their
change markers are content fingerprints (and, for connections, a show each: the list has no
`dw_config`). These tests make the edit the way the console would (straight into the workspace's
engine), then check that plan reports it as drift, and a git edit of the same object as a conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import EXAMPLE_SECRETS, run_jobsync

from jobsync import commands
from jobsync.model import ObjectKey
from jobsync.plan import Action, Plan, Side
from jobsync.secrets import Redactor, default_resolver
from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.service import Engine


def _db(repo: Path) -> Path:
    return repo / '.jobsync' / 'workspace.db'


@pytest.fixture
def ws(example_repo: Path) -> Iterator[LocalWorkspace]:
    workspace = LocalWorkspace(_db(example_repo))
    yield workspace
    workspace.close()


def _plan(repo: Path, ws: LocalWorkspace) -> Plan:
    loaded = commands.load(repo, None, None)
    return commands.plan_command(loaded, ws, options=commands.plan_options(loaded.target))


def _apply(repo: Path, ws: LocalWorkspace) -> None:
    applied = commands.apply_command(_plan(repo, ws), ws, default_resolver(Redactor(), EXAMPLE_SECRETS),
                                     lambda e: None)
    assert applied.result.ok and applied.state is not None


def _cluster_id(engine: Engine, name: str) -> str:
    return next(str(c['id']) for c in engine.list_clusters()['clusters'] if c['name'] == name)


def _edit_script(engine: Engine, key: ObjectKey) -> None:
    spec = engine.show_script(key.name)
    spec['content'] = str(spec.get('content', '')) + '\n-- edited in the console\n'
    engine.update_script(key.name, spec)


def _edit_resource(engine: Engine, key: ObjectKey) -> None:
    id_ = engine.resource_id(key.name)
    spec = engine.show_resource(id_)
    spec['desc'] = 'edited in the console'
    engine.update_resource(id_, spec)


def _edit_connection(engine: Engine, key: ObjectKey) -> None:
    # a dw_config edit: absent from the list entry, so only the show can see it
    (entry,) = [c for c in engine.list_connections(name=key.name)['data_connection_lists'] if c['dw_name'] == key.name]
    spec = engine.show_connection(str(entry['dw_id']))
    config = dict(spec.get('dw_config') or {})
    config['console_note'] = 'edited in the console'
    spec['dw_config'] = config
    engine.update_connection(str(entry['dw_id']), spec)


def _edit_link(engine: Engine, key: ObjectKey) -> None:
    cluster = _cluster_id(engine, key.cluster)
    spec = engine.show_link(cluster, key.name)
    spec['enabled'] = not spec.get('enabled', True)
    engine.update_link(cluster, key.name, spec)


def _edit_cdm_job(engine: Engine, key: ObjectKey) -> None:
    cluster = _cluster_id(engine, key.cluster)
    spec = engine.show_cdm_job(cluster, key.name)
    spec['description'] = 'edited in the console'
    engine.update_cdm_job(cluster, key.name, spec)


def _edit_job(engine: Engine, key: ObjectKey) -> None:
    spec = engine.show_job(key.name)
    for managed in ('id', 'lastUpdateUser', 'version'):
        spec.pop(managed, None)
    spec['cleanOverdueDays'] = 7
    engine.update_job(key.name, spec)


EDITS: dict[str, Callable[[Engine, ObjectKey], None]] = {
    'job': _edit_job, 'script': _edit_script, 'resource': _edit_resource, 'connection': _edit_connection,
    'cdm-link': _edit_link, 'cdm-job': _edit_cdm_job,
}


def _first_of(ws: LocalWorkspace, kind: str) -> ObjectKey:
    return next(k for k in ws.list_objects() if k.kind == kind)


@pytest.mark.parametrize('kind', sorted(EDITS))
def test_a_console_edit_of_every_kind_is_seen_by_plan_and_drift(example_repo: Path, ws: LocalWorkspace,
                                                                kind: str) -> None:
    _apply(example_repo, ws)
    assert not _plan(example_repo, ws).has_changes
    key = _first_of(ws, kind)
    engine = Engine(_db(example_repo))
    try:
        EDITS[kind](engine, key)
    finally:
        engine.close()
    change = _plan(example_repo, ws).change(key)
    # drift: the workspace moved, git did not (plan proposes to put git's version back)
    assert change.action is not Action.NOOP and change.side is Side.WORKSPACE, (key, change)
    drift = run_jobsync('drift', '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert drift.code == 2, drift
    assert str(key) in drift.stdout or key.name in drift.stdout, drift.stdout


def test_a_script_edited_in_git_and_in_the_console_is_a_conflict(example_repo: Path, ws: LocalWorkspace) -> None:
    _apply(example_repo, ws)
    key = _first_of(ws, 'script')
    sql = next(p for p in (example_repo / 'scripts').rglob(f'{key.name}.*') if p.suffix != '.yaml')
    sql.write_text(sql.read_text() + '\n-- edited in git\n')
    engine = Engine(_db(example_repo))
    try:
        _edit_script(engine, key)
    finally:
        engine.close()
    change = _plan(example_repo, ws).change(key)
    assert change.action is Action.CONFLICT and change.side is Side.BOTH, change
