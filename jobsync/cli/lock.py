"""`jobsync force-unlock LOCK_ID`: free a target's lock left behind by an apply that died."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jobsync.cli.app import app
from jobsync.cli.common import Output, RepoOpt, TargetOpt, error_handler, read_env
from jobsync.cli.root import find_root
from jobsync.commands import console
from jobsync.state import format_ms


@app.command('force-unlock')
def force_unlock(
    lock_id: Annotated[str, typer.Argument(help='The lock id, as the refused or waiting apply printed it '
                                                '(`unreadable:TARGET` for a lock that cannot be read).',
                                           show_default=False)],
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
) -> None:
    """Free the target's lock LOCK_ID, whoever holds it. Only for an apply that is known to be dead.

    An apply that still runs stops before its next batch, when it finds its lock gone. An expired
    lock needs no force-unlock: the next apply takes it over.
    """
    output = Output()
    with error_handler(output):
        lock = console.force_unlock(find_root(repo), target, read_env(), lock_id)  # definitions need not be valid
        output.out(f'Freed the lock {lock.id} on target {lock.target}, held by {lock.owner}'
                   + (f' (run {lock.run_url})' if lock.run_url else '')
                   + f' since {format_ms(lock.acquired_at)}.\n')
