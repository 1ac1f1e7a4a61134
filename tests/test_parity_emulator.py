"""Issue 16 through the emulator (HTTP, signed): the console-parity points the `local:` tests prove,
on the `dataarts` client against a real server: same-name skip, a saved plan applied twice,
deleting and pruning what is still used, and export keeping what changed only in git."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync
from dataarts_fixtures import EMULATOR_ENV, RunningEmulator, point_at_emulator

from jobsync.model import ObjectKey
from jobsync.workspace.client import DataArtsClient

ENV = {**EXAMPLE_SECRETS, **EMULATOR_ENV}
EMU = ('--target', 'emulator')


@pytest.fixture
def emulated(example_repo: Path, running_emulator: RunningEmulator) -> Iterator[tuple[Path, DataArtsClient]]:
    """The example repo applied to a fresh emulator project, and a client on that project."""
    project = point_at_emulator(example_repo, running_emulator)
    assert run_jobsync('apply', '--repo', str(example_repo), *EMU, '--auto-approve', env=ENV).code == 0
    client = running_emulator.workspace(project, workspace_id='ws-example')
    yield example_repo, client
    client.close()


def _spec(client: DataArtsClient, key: ObjectKey) -> dict[str, object]:
    return client.read([key])[key].spec


def test_same_name_skip(emulated: tuple[Path, DataArtsClient]) -> None:
    repo, client = emulated
    before = _spec(client, ObjectKey('job', 'job_batch'))['schedule']
    job = repo / 'jobs' / 'job_batch.yaml'
    job.write_text(job.read_text().replace('"0 0 2 * * ?"', '"0 30 2 * * ?"'))
    client.delete(ObjectKey('job', 'job_stream'))
    planned = run_jobsync('plan', '--repo', str(repo), *EMU, '--same-name', 'skip', '--format', 'json', env=ENV)
    assert planned.code == 0 and json.loads(planned.stdout)['skipped'] == ['job/job_batch'], planned
    applied = run_jobsync('apply', '--repo', str(repo), *EMU, '--same-name', 'skip', '--auto-approve', env=ENV)
    assert applied.code == 0 and 'applied  job/job_stream' in applied.stdout, applied
    assert _spec(client, ObjectKey('job', 'job_batch'))['schedule'] == before


def test_a_saved_plan_applied_twice_says_already_applied(emulated: tuple[Path, DataArtsClient],
                                                          tmp_path: Path) -> None:
    repo, _client = emulated
    (repo / 'scripts' / 'doc1_sql.sql').write_text('SELECT 7;\n')
    plan_file = tmp_path / 'plan.json'
    assert run_jobsync('plan', '--repo', str(repo), *EMU, '--out', str(plan_file), env=ENV).code == 0
    assert run_jobsync('apply', str(plan_file), env=ENV, cwd=repo).code == 0
    again = run_jobsync('apply', str(plan_file), env=ENV, cwd=repo)
    assert again.code == 1 and 'already applied' in again.stderr, again


def test_delete_and_prune_refuse_what_is_still_used(emulated: tuple[Path, DataArtsClient]) -> None:
    repo, client = emulated
    refused = run_jobsync('delete', 'script/merge_orders', '--repo', str(repo), *EMU, '--yes', env=ENV)
    assert refused.code == 1 and 'script/merge_orders is used by job/mysql_to_dws_daily' in refused.stderr, refused
    for rel in ('scripts/doc1_sql.yaml', 'scripts/doc1_sql.sql'):
        (repo / rel).unlink()
    pruned = run_jobsync('apply', '--repo', str(repo), *EMU, '--prune', '--auto-approve', env=ENV)
    assert pruned.code == 1 and 'script/doc1_sql is used by job/doc1' in pruned.stderr, pruned
    assert ObjectKey('script', 'doc1_sql') in client.list_objects()


def test_export_keeps_a_change_made_only_in_git(emulated: tuple[Path, DataArtsClient]) -> None:
    repo, _client = emulated
    path = repo / 'scripts' / 'kpi_refresh.sql'
    path.write_text(path.read_text() + '-- pending\n')
    git_commit_all(repo, 'pending change')
    merged = path.read_text()
    exported = run_jobsync('export', '--all', '--repo', str(repo), *EMU, '--commit', env=ENV)
    assert exported.code == 0, exported
    assert '1 changed in git only (git kept; apply carries it)' in exported.stdout + exported.stderr
    assert path.read_text() == merged
