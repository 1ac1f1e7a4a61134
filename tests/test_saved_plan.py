"""Saved plans through the real command: `plan --out`, then `apply PLAN_FILE` executes exactly it.

The workspace is a real SQLite file; "someone edits in the console" is the engine writing to that
same file, as the service would take a console edit.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from conftest import EXAMPLE_SECRETS, run_jobsync
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

from jobsync import schema
from jobsync.planseal import seal
from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.service import Engine


def _db(repo: Path) -> Path:
    return repo / '.jobsync' / 'workspace.db'


def console_edit_job(repo: Path, name: str, **changes: Any) -> None:
    """Edit a job in the workspace behind jobsync's back (as the DataArts console would)."""
    engine = Engine(_db(repo))
    try:
        spec = engine.show_job(name)
        for field in ('id', 'lastUpdateUser', 'version'):
            spec.pop(field, None)
        spec.update(changes)
        engine.update_job(name, spec)
    finally:
        engine.close()


def _apply_all(repo: Path) -> None:
    result = run_jobsync('apply', '--repo', str(repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert result.code == 0, result


def _change_cron(repo: Path, cron: str = '"0 30 2 * * ?"') -> None:
    job = repo / 'jobs' / 'job_batch.yaml'
    job.write_text(job.read_text().replace('"0 0 2 * * ?"', cron))


def _state_serial(repo: Path) -> int | None:
    ws = LocalWorkspace(_db(repo))
    try:
        state = ws.read_state('local')
        return state.serial if state is not None else None
    finally:
        ws.close()


def test_saved_plan_applies_exactly_and_validates_against_its_schema(example_repo: Path, tmp_path: Path) -> None:
    plan_file = tmp_path / 'plan.json'
    planned = run_jobsync('plan', '--repo', str(example_repo), '--out', str(plan_file))
    assert planned.code == 0, planned
    doc = json.loads(plan_file.read_text())
    Draft202012Validator(schema.load_schema('plan')).validate(doc)
    assert doc['format_version'] == 1 and doc['target'] == 'local' and doc['summary']['create'] == 22
    assert all(c['live_updated'] is None for c in doc['changes'])

    applied = run_jobsync('apply', str(plan_file), env=EXAMPLE_SECRETS, cwd=tmp_path)
    assert applied.code == 0, applied
    assert 'Apply: 22 applied, 0 failed, 0 skipped.' in applied.stdout
    again = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode')
    assert again.code == 0 and 'No changes.' in again.stdout, again


def test_saved_plan_needs_no_repo(example_repo: Path, tmp_path: Path) -> None:
    _apply_all(example_repo)
    _change_cron(example_repo)
    plan_file = tmp_path / 'plan.json'
    assert run_jobsync('plan', '--repo', str(example_repo), '--out', str(plan_file)).code == 0
    # The definitions are gone; only the workspace (and the plan) remain.
    for folder in ('jobs', 'scripts', 'connections', 'resources', 'cdm'):
        shutil.rmtree(example_repo / folder)
    (example_repo / 'jobsync.yaml').unlink()
    applied = run_jobsync('apply', str(plan_file), env=EXAMPLE_SECRETS, cwd=tmp_path)
    assert applied.code == 0, applied
    assert 'applied  job/job_batch' in applied.stdout and 'Apply: 1 applied' in applied.stdout


def test_stale_saved_plan_is_refused_naming_the_object_and_nothing_is_written(
        example_repo: Path, tmp_path: Path) -> None:
    _apply_all(example_repo)
    _change_cron(example_repo)
    (example_repo / 'scripts' / 'dws_sql.sql').write_text('SELECT 42;\n')
    plan_file = tmp_path / 'plan.json'
    assert run_jobsync('plan', '--repo', str(example_repo), '--out', str(plan_file)).code == 0
    serial = _state_serial(example_repo)

    console_edit_job(example_repo, 'job_batch', description='edited in the console')
    refused = run_jobsync('apply', str(plan_file), env=EXAMPLE_SECRETS)
    assert refused.code == 1, refused
    assert 'job/job_batch was changed in the workspace' in refused.stderr
    assert 'script/dws_sql' not in refused.stderr.split('stale:')[1].split('nothing was written')[0]
    assert 'nothing was written' in refused.stderr and 'Traceback' not in refused.stderr

    # Nothing written: the script change planned beside it did not go out either, state untouched.
    engine = Engine(_db(example_repo))
    try:
        assert engine.show_script('dws_sql')['content'] != 'SELECT 42;\n'
    finally:
        engine.close()
    assert _state_serial(example_repo) == serial


def test_saved_create_is_stale_once_the_object_exists(example_repo: Path, tmp_path: Path) -> None:
    plan_file = tmp_path / 'plan.json'
    assert run_jobsync('plan', '--repo', str(example_repo), '--out', str(plan_file)).code == 0
    # Someone else applied in between, a plan of their own (one exactly like the saved one is
    # refused as already applied: the state records its digest).
    _change_cron(example_repo)
    _apply_all(example_repo)
    refused = run_jobsync('apply', str(plan_file), env=EXAMPLE_SECRETS)
    assert refused.code == 1
    assert 'connection/doctest now exists in the workspace' in refused.stderr


def test_saved_plan_for_another_target_or_format_is_refused(example_repo: Path, tmp_path: Path) -> None:
    plan_file = tmp_path / 'plan.json'
    assert run_jobsync('plan', '--repo', str(example_repo), '--out', str(plan_file)).code == 0
    other = run_jobsync('apply', str(plan_file), '--target', 'prod', env=EXAMPLE_SECRETS)
    assert other.code == 1 and "made for target 'local', not 'prod'" in other.stderr, other

    doc = json.loads(plan_file.read_text())
    doc['format_version'] = 99
    future = tmp_path / 'future.json'
    future.write_text(json.dumps(doc))
    refused = run_jobsync('apply', str(future), env=EXAMPLE_SECRETS)
    assert refused.code == 1 and 'format_version 99 is not supported' in refused.stderr, refused

    doc['format_version'] = 1
    doc['changes'][0]['action'] = 'obliterate'
    edited = tmp_path / 'edited.json'
    edited.write_text(seal(json.dumps(doc), None))  # sealed again: the schema check is what is tried here
    invalid = run_jobsync('apply', str(edited), env=EXAMPLE_SECRETS)
    assert invalid.code == 1 and 'not a valid jobsync plan' in invalid.stderr and '/changes/0/action' in invalid.stderr

    stray = tmp_path / 'package.json'
    stray.write_text('{"name": "not-a-plan"}')
    wrong_file = run_jobsync('apply', str(stray), env=EXAMPLE_SECRETS)
    assert wrong_file.code == 1 and 'is not a jobsync plan file: it has no format_version' in wrong_file.stderr
    assert not _db(example_repo).exists() or _state_serial(example_repo) is None


def test_plan_time_options_cannot_be_given_to_a_saved_plan(example_repo: Path, tmp_path: Path) -> None:
    plan_file = tmp_path / 'plan.json'
    assert run_jobsync('plan', '--repo', str(example_repo), '--out', str(plan_file)).code == 0
    result = run_jobsync('apply', str(plan_file), '--prune', env=EXAMPLE_SECRETS)
    assert result.code == 1 and '--prune cannot be combined with a saved plan' in result.stderr, result


def test_a_saved_plan_with_a_conflict_is_written_for_review_but_never_applied(
        example_repo: Path, tmp_path: Path) -> None:
    _apply_all(example_repo)
    _change_cron(example_repo)
    console_edit_job(example_repo, 'job_batch', basicConfig={'owner': 'someone', 'priority': 2})
    plan_file = tmp_path / 'plan.json'
    planned = run_jobsync('plan', '--repo', str(example_repo), '--out', str(plan_file))
    assert planned.code == 1 and 'apply would refuse this plan' in planned.stderr, planned
    assert json.loads(plan_file.read_text())['summary']['conflict'] == 1
    refused = run_jobsync('apply', str(plan_file), env=EXAMPLE_SECRETS)
    assert refused.code == 1 and '1 conflict(s)' in refused.stderr and 'job/job_batch' in refused.stderr, refused
    assert 'nothing was written' in refused.stderr
