"""`jobsync versions JOB`: the current version number, and one version by number (issue 16 item 10),
on `local:` and through the emulator. The API lists no versions; ShowJob takes a number."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import EXAMPLE_SECRETS, run_jobsync
from dataarts_fixtures import EMULATOR_ENV, RunningEmulator, point_at_emulator

EMU = EMULATOR_ENV


def _two_versions(repo: Path, *target: str, env: dict[str, str] | None = None) -> None:
    extra = {**EXAMPLE_SECRETS, **(env or {})}
    assert run_jobsync('apply', '--repo', str(repo), *target, '--auto-approve', env=extra).code == 0
    job = repo / 'jobs' / 'doc1.yaml'
    job.write_text(job.read_text(encoding='utf-8').replace('  priority: 2\n', '  priority: 1\n'), encoding='utf-8')
    assert run_jobsync('apply', '--repo', str(repo), *target, '--auto-approve', env=extra).code == 0


def _check(repo: Path, *target: str, env: dict[str, str] | None = None) -> None:
    shown = run_jobsync('versions', 'doc1', '--repo', str(repo), *target, env=env)
    assert shown.code == 0, shown
    assert 'job/doc1: version 2 (the latest submitted' in shown.stdout
    assert 'lists no job versions' in shown.stdout and '--version N' in shown.stdout
    first = run_jobsync('versions', 'job/doc1', '--version', '1', '--format', 'json', '--repo', str(repo), *target,
                        env=env)
    assert first.code == 0, first
    doc = json.loads(first.stdout)
    assert (doc['current_version'], doc['version'], doc['listable']) == (2, 1, False)
    assert doc['definition']['basicConfig']['priority'] == 2 and doc['definition']['version'] == '1'
    missing = run_jobsync('versions', 'doc1', '--version', '7', '--repo', str(repo), *target, env=env)
    assert missing.code == 1 and 'no version 7' in missing.stderr and 'Traceback' not in missing.stderr, missing
    unknown = run_jobsync('versions', 'no_such_job', '--repo', str(repo), *target, env=env)
    assert unknown.code == 1 and 'no_such_job' in unknown.stderr, unknown


def test_versions_on_local(example_repo: Path) -> None:
    _two_versions(example_repo)
    _check(example_repo)


def test_versions_through_the_emulator(example_repo: Path, running_emulator: RunningEmulator) -> None:
    point_at_emulator(example_repo, running_emulator)
    _two_versions(example_repo, '--target', 'emulator', env=EMU)
    _check(example_repo, '--target', 'emulator', env=EMU)
