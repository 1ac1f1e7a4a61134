"""`--same-name skip|overwrite` (issue 16 item 3): skip creates what is missing and leaves existing objects."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import EXAMPLE_SECRETS, run_jobsync

from jobsync.workspace.service import Engine


def _db(repo: Path) -> Path:
    return repo / '.jobsync' / 'workspace.db'


def _cron(repo: Path) -> str:
    engine = Engine(_db(repo))
    try:
        return json.dumps(engine.show_job('job_batch')['schedule'])
    finally:
        engine.close()


def _setup(repo: Path) -> str:
    """Applied once; then git changes job_batch's cron and the workspace loses job_stream."""
    assert run_jobsync('apply', '--repo', str(repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    before = _cron(repo)
    job = repo / 'jobs' / 'job_batch.yaml'
    job.write_text(job.read_text().replace('"0 0 2 * * ?"', '"0 30 2 * * ?"'))
    engine = Engine(_db(repo))
    try:
        engine.delete_job('job_stream')
    finally:
        engine.close()
    return before


def test_skip_creates_what_is_missing_and_leaves_existing_objects(example_repo: Path) -> None:
    before = _setup(example_repo)
    planned = run_jobsync('plan', '--repo', str(example_repo), '--same-name', 'skip', '--format', 'json')
    assert planned.code == 0, planned
    doc = json.loads(planned.stdout)
    assert doc['skipped'] == ['job/job_batch']
    by_key = {c['key']: c for c in doc['changes']}
    assert by_key['job/job_batch']['action'] == 'noop' and by_key['job/job_batch']['reason'].startswith('skipped')
    assert by_key['job/job_stream']['action'] == 'create'
    text = run_jobsync('plan', '--repo', str(example_repo), '--same-name', 'skip')
    assert 'Skipped: in the workspace already' in text.stdout and '1 skipped (--same-name skip)' in text.stdout

    applied = run_jobsync('apply', '--repo', str(example_repo), '--same-name', 'skip', '--auto-approve',
                          env=EXAMPLE_SECRETS)
    assert applied.code == 0, applied
    assert 'applied  job/job_stream' in applied.stdout and 'applied  job/job_batch' not in applied.stdout
    assert _cron(example_repo) == before
    # Skipping recorded nothing: overwrite (the default) still sees the difference afterwards.
    again = run_jobsync('plan', '--repo', str(example_repo), '--format', 'json')
    changes = {c['key']: c['action'] for c in json.loads(again.stdout)['changes']}
    assert changes['job/job_batch'] == 'update'


def test_same_name_per_target_in_jobsync_yaml(example_repo: Path) -> None:
    _setup(example_repo)
    config = example_repo / 'jobsync.yaml'
    text = config.read_text()
    assert 'workspace: local:' in text
    line = '    workspace: local:.jobsync/workspace.db'
    config.write_text(text.replace(line, '    same_name: skip\n' + line, 1))
    planned = run_jobsync('plan', '--repo', str(example_repo), '--format', 'json')
    assert planned.code == 0, planned
    assert json.loads(planned.stdout)['skipped'] == ['job/job_batch']
    forced = run_jobsync('plan', '--repo', str(example_repo), '--same-name', 'overwrite', '--format', 'json')
    assert 'skipped' not in json.loads(forced.stdout)
