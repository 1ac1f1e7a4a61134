"""`jobsync state list|show|rm|reset`: look at and repair a target's state (commands/state.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from jobsync import jsontext
from jobsync.cli.app import app
from jobsync.cli.common import (
    TEXT_JSON,
    Format,
    Output,
    RepoOpt,
    TargetOpt,
    TextJsonFormatOpt,
    error_handler,
    lock_owner_from_env,
    parse_duration,
    read_env,
    require_format,
)
from jobsync.cli.root import find_root
from jobsync.commands import state as commands
from jobsync.commands.flow import Locking
from jobsync.state import Lock, format_ms

state_app = typer.Typer(
    no_args_is_help=True,
    help='Look at and repair what jobsync remembers of a target (its state), like `terraform state`.\n\n'
         'rm and reset take the target\'s lock, as apply does; list and show only read.')
app.add_typer(state_app, name='state')

LockTimeoutOpt = Annotated[str, typer.Option(
    '--lock-timeout', help='How long to wait for the lock on the target if an apply holds it (90, 90s, 5m).')]


def _json(doc: dict[str, Any]) -> str:
    return jsontext.pretty(doc) + '\n'


def _locking(output: Output, lock_timeout: str) -> Locking:
    timeout = parse_duration(lock_timeout, option='--lock-timeout')
    owner, run_url = lock_owner_from_env(read_env())

    def waiting(holder: Lock) -> None:
        output.err(f'Target {holder.target} is locked by {holder.describe()}; waiting up to {timeout:g}s.\n')

    return Locking(owner, run_url, timeout, waiting)


@state_app.command('list')
def state_list(repo: RepoOpt = Path('.'), target: TargetOpt = None, fmt: TextJsonFormatOpt = Format.TEXT) -> None:
    """List the objects the target's state holds (the objects apply manages), one key a line."""
    output = Output()
    with error_handler(output, fmt):
        require_format('state list', fmt, TEXT_JSON, output)
        viewed = commands.read(find_root(repo), target, read_env())
        state = viewed.state
        keys = [str(k) for k in sorted(state.objects)] if state is not None else []
        if fmt is Format.JSON:
            output.out(_json({'target': viewed.target, 'state_key': viewed.key, 'workspace': viewed.workspace,
                              'serial': state.serial if state else None,
                              'updated_at': format_ms(state.updated_at) if state and state.updated_at else None,
                              'git_rev': state.git_rev if state else None, 'objects': keys}))
        elif state is None:
            output.err(f'Target {viewed.target} has no state in {viewed.workspace}: nothing was applied there '
                       'yet (or its state was reset).\n')
        else:
            output.out(''.join(f'{k}\n' for k in keys))
            output.err(f'{len(keys)} object(s) in the state of target {viewed.target} (serial {state.serial}'
                       + (f', written {format_ms(state.updated_at)}' if state.updated_at else '') + ').\n')


@state_app.command('show')
def state_show(
    key: Annotated[str, typer.Argument(help='The object, as `state list` prints it (job/NAME, '
                                            'cdm-job/CLUSTER/NAME).', show_default=False)],
    repo: RepoOpt = Path('.'), target: TargetOpt = None, fmt: TextJsonFormatOpt = Format.TEXT,
) -> None:
    """Show what the state remembers of one object: fingerprint, hashes, git revision, secrets used."""
    output = Output()
    with error_handler(output, fmt):
        require_format('state show', fmt, TEXT_JSON, output)
        viewed = commands.read(find_root(repo), target, read_env())
        object_key, entry = commands.entry(viewed, key)
        # The secrets' keyed fingerprints are of no use to a reader: only which references were sent.
        secrets_sent = sorted(entry.secrets)
        doc: dict[str, Any] = {'target': viewed.target, 'key': str(object_key), 'fingerprint': entry.fingerprint,
               'content_hash': entry.content_hash, 'live_hash': entry.live_hash, 'git_rev': entry.git_rev,
               'secrets': secrets_sent}
        if fmt is Format.JSON:
            output.out(_json(doc))
        else:
            output.out(''.join(f'{name:<13} {value}\n' for name, value in doc.items()
                               if name != 'secrets')
                       + f'{"secrets":<13} {", ".join(secrets_sent) or "(none)"}\n')


@state_app.command('rm')
def state_rm(
    keys: Annotated[list[str], typer.Argument(help='The objects to forget, as `state list` prints them.',
                                              show_default=False)],
    repo: RepoOpt = Path('.'), target: TargetOpt = None, fmt: TextJsonFormatOpt = Format.TEXT,
    lock_timeout: LockTimeoutOpt = '0s',
) -> None:
    """Forget objects: the workspace is not touched. The next plan compares them with git two-way, as
    objects never applied (a match is adopted, a difference is an update, never a conflict)."""
    output = Output()
    with error_handler(output, fmt):
        require_format('state rm', fmt, TEXT_JSON, output)
        locking = _locking(output, lock_timeout)
        done = commands.remove(find_root(repo), target, read_env(), keys, locking=locking)
        removed = [str(k) for k in done.removed]
        if fmt is Format.JSON:
            output.out(_json({'target': done.target, 'removed': removed, 'serial': done.state.serial}))
        else:
            output.out(''.join(f'Removed {k}\n' for k in removed)
                       + f'{len(removed)} object(s) forgotten by the state of target {done.target} '
                         f'(serial {done.state.serial}); the workspace was not touched.\n')


@state_app.command('reset')
def state_reset(
    repo: RepoOpt = Path('.'), target: TargetOpt = None, fmt: TextJsonFormatOpt = Format.TEXT,
    lock_timeout: LockTimeoutOpt = '0s',
) -> None:
    """Drop the target's state whole, also one that cannot be read. The workspace is not touched: the
    next plan compares git with the workspace only (two-way), the next apply records a new state."""
    output = Output()
    with error_handler(output, fmt):
        require_format('state reset', fmt, TEXT_JSON, output)
        locking = _locking(output, lock_timeout)
        done = commands.reset(find_root(repo), target, read_env(), locking=locking)
        if fmt is Format.JSON:
            output.out(_json({'target': done.target, 'state_key': done.key, 'workspace': done.workspace,
                              'dropped': done.dropped}))
        elif done.dropped:
            output.out(f'Dropped the state of target {done.target} in {done.workspace}; the workspace was not '
                       'touched. The next plan compares git with the workspace only.\n')
        else:
            output.out(f'Target {done.target} had no state in {done.workspace}; nothing to drop.\n')
