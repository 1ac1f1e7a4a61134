"""Secret rotation: apply records a keyed fingerprint (HMAC) of each secret sent; a plan holding the
key and the secrets says "secret changed" for a rotated one, and never shows a value."""

from __future__ import annotations

from pathlib import Path

from conftest import EXAMPLE_SECRETS, run_jobsync
from records import sqlite_records

from jobsync.state import secret_fingerprint
from jobsync.workspace.local import LocalWorkspace

KEY = {'JOBSYNC_FINGERPRINT_KEY': 'fingerprint-key-for-tests-0123456789'}
ROTATED = {**EXAMPLE_SECRETS, 'DWS_PASSWORD': 'canary-dws-rotated-42'}


def _state_text(repo: Path) -> str:
    ws = LocalWorkspace(repo / '.jobsync' / 'workspace.db')
    try:
        with sqlite_records(ws.records)._read() as conn:
            return '\n'.join(row[0] for row in conn.execute('SELECT body FROM jobsync_state'))
    finally:
        ws.close()


def test_a_rotated_secret_is_planned_as_secret_changed_without_its_value(example_repo: Path) -> None:
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env={**EXAMPLE_SECRETS, **KEY})
    assert applied.code == 0, applied
    state = _state_text(example_repo)
    expected = secret_fingerprint(KEY['JOBSYNC_FINGERPRINT_KEY'].encode(), EXAMPLE_SECRETS['DWS_PASSWORD'])
    assert f'"${{secret:env:DWS_PASSWORD}}": "{expected}"' in state
    for value in EXAMPLE_SECRETS.values():
        assert value not in state

    same = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode', env={**EXAMPLE_SECRETS, **KEY})
    assert same.code == 0, same

    rotated = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode', env={**ROTATED, **KEY})
    assert rotated.code == 2, rotated
    changed = sorted(line for line in rotated.stdout.splitlines() if line.startswith('~ '))
    assert changed == [
        '~ cdm-link/cdm-prod/dws_dst  (secret changed since the last apply: ${secret:env:DWS_PASSWORD})',
        '~ connection/doctest  (secret changed since the last apply: ${secret:env:DWS_PASSWORD})',
    ]
    markdown = run_jobsync('plan', '--repo', str(example_repo), '--format', 'markdown', env={**ROTATED, **KEY})
    assert '🔑 secret changed' in markdown.stdout
    for result in (rotated, markdown):
        for value in (*ROTATED.values(), *EXAMPLE_SECRETS.values()):
            assert value not in result.stdout + result.stderr

    # Without the key (a pull-request job), plan cannot tell, and resolves nothing.
    blind = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode', env=ROTATED)
    assert blind.code == 0, blind
    # With the key but without the secret, it says what it could not check.
    partial = {k: v for k, v in ROTATED.items() if k != 'DWS_PASSWORD'}
    unsure = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode', env={**partial, **KEY})
    assert unsure.code == 0 and 'secret rotation not checked for ${secret:env:DWS_PASSWORD}' in unsure.stdout

    sent = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env={**ROTATED, **KEY})
    assert sent.code == 0 and 'Apply: 2 applied, 0 failed, 0 skipped.' in sent.stdout, sent
    settled = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode', env={**ROTATED, **KEY})
    assert settled.code == 0, settled
    assert ROTATED['DWS_PASSWORD'] not in _state_text(example_repo)
