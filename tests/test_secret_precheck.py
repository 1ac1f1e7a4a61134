"""Every secret check (missing, too short, unreadable) happens before apply's first write."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import EXAMPLE_SECRETS, run_jobsync

from jobsync.workspace.local import LocalWorkspace


def _untouched(repo: Path) -> None:
    ws = LocalWorkspace(repo / '.jobsync' / 'workspace.db')
    try:
        assert ws.read_state('local') is None
        assert not list(ws.list_objects())
    finally:
        ws.close()


@pytest.mark.parametrize(('value', 'why'), [('ab', 'shorter than 4 characters'), (None, 'cannot resolve')])
def test_a_short_or_missing_secret_is_refused_before_anything_is_written(
        example_repo: Path, value: str | None, why: str) -> None:
    env = {k: v for k, v in EXAMPLE_SECRETS.items() if k != 'ETL_HOST_PASSWORD'}
    if value is not None:
        env['ETL_HOST_PASSWORD'] = value
    result = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=env)
    assert result.code == 1, result
    assert why in result.stderr and 'nothing was written' in result.stderr
    assert 'Apply:' not in result.stdout
    _untouched(example_repo)


def test_an_unreadable_secret_file_is_refused_before_anything_is_written(example_repo: Path, tmp_path: Path) -> None:
    job = next(p for p in (example_repo / 'connections').glob('*.yaml') if 'ETL_HOST_PASSWORD' in p.read_text())
    job.write_text(job.read_text().replace('${secret:env:ETL_HOST_PASSWORD}', '${secret:file:etl_host}'))
    secrets_dir = tmp_path / 'secrets'
    (secrets_dir / 'etl_host').mkdir(parents=True)  # a folder where the file should be: unreadable
    result = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', '--secrets-dir', str(secrets_dir),
                         env=EXAMPLE_SECRETS)
    assert result.code == 1, result
    assert 'nothing was written' in result.stderr
    _untouched(example_repo)
