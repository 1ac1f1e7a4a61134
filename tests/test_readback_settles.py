"""After apply, the emulator's read-back is folded: plan is a no-op and export rewrites nothing
(issue 11, points 2-4), over signed HTTP as on `local:`."""

from __future__ import annotations

from pathlib import Path

import git
from conftest import EXAMPLE_SECRETS, run_jobsync
from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK, RunningEmulator, target_the_emulator

ENV = {'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK, **EXAMPLE_SECRETS}


def _settles(repo: Path, env: dict[str, str]) -> None:
    applied = run_jobsync('apply', '--repo', str(repo), '--auto-approve', env=env)
    assert applied.code == 0, applied
    planned = run_jobsync('plan', '--repo', str(repo), '--detailed-exitcode', env=env)
    assert planned.code == 0, planned
    exported = run_jobsync('export', '--all', '--repo', str(repo), env=env)
    assert exported.code == 0, exported
    assert 'Nothing to write' in exported.stdout, exported.stdout
    assert not git.Repo(repo).is_dirty(untracked_files=True)


def test_examples_settle_on_the_emulator(example_repo: Path, running_emulator: RunningEmulator) -> None:
    target_the_emulator(example_repo, running_emulator.url)
    _settles(example_repo, ENV)


def test_examples_settle_on_local(example_repo: Path) -> None:
    _settles(example_repo, dict(EXAMPLE_SECRETS))


def test_the_export_read_back_carries_what_git_leaves_out(example_repo: Path) -> None:
    """The settling above is not vacuous: the export jobsync reads holds the template defaults
    (jobdefaults.py) and `value_is_sensitive` that `jobs/spark_daily.yaml` never wrote."""
    import io
    import json
    import zipfile

    from jobsync.workspace.local import LocalWorkspace

    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=dict(EXAMPLE_SECRETS))
    assert applied.code == 0, applied
    git_text = (example_repo / 'jobs' / 'spark_daily.yaml').read_text(encoding='utf-8')
    assert not any(name in git_text for name in ('scheduleOffset', 'cleanOverdueDays', 'concurrent', 'isIgnoreWaiting'))
    engine = LocalWorkspace(example_repo / '.jobsync' / 'workspace.db').engine
    archive = zipfile.ZipFile(io.BytesIO(engine.export_jobs(['spark_daily'])))
    exported = json.loads(archive.read('jobs/spark_daily/spark_daily.job'))
    node = exported['nodes'][0]
    assert exported['schedule']['scheduleOffset'] == 1 and exported['schedule']['cron']['concurrent'] == 1
    assert exported['cleanOverdueDays'] == 60 and exported['basicConfig']['isIgnoreWaiting'] == 1
    assert exported['basicConfig']['instanceTimeout'] == 240  # git's value, not the default
    assert all(p['value_is_sensitive'] is False for p in node['properties'])
