"""The command line. Command modules register on `app`; `main` is the entry point."""

from __future__ import annotations

import gc
import sys
from typing import NoReturn

import typer

from jobsync.cli import core, emulator, export, init, lock, ops, signals, state, versions  # noqa: F401  (registers the commands)
from jobsync.cli.app import app
from jobsync.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, click_exceptions
from jobsync.cli.examples import attach
from jobsync.commands import flow

__all__ = ['app', 'main']

attach(app)


def main() -> NoReturn:
    """Entry point: click's usage errors exit 64, so CI never reads a typo as 'changes present'."""
    # A command builds tens of thousands of small containers that live until it ends (definitions,
    # listings, the plan) and few cycles: at the default thresholds the collector rescans them more
    # often the more there are (issue 14: 8% of a 4,000-object no-op plan's CPU, half of a 20,600-object
    # one: 11.9 s -> 5.5 s, peak RSS 416 -> 342 MB). Fewer collections.
    gc.set_threshold(50_000, 20, 100)
    gc.freeze()  # what importing made lives as long as the process: never scanned again
    flow.interrupted_written.clear()
    with signals.handled() as caught:
        try:
            code = app(standalone_mode=False, prog_name='jobsync')  # `python -m jobsync` too
        except click_exceptions.UsageError as err:
            err.show()
            code = EXIT_USAGE
        except (typer.Abort, KeyboardInterrupt):
            sys.stderr.write('Aborted.\n')
            code = EXIT_INTERRUPTED
        except click_exceptions.ClickException as err:
            err.show()
            code = EXIT_ERROR
    if code == EXIT_INTERRUPTED:
        _interrupted(caught)
        code = caught.exit_code or code
    sys.exit(code if isinstance(code, int) else 0)


def _interrupted(caught: signals.Caught) -> None:
    """Say what an interrupted apply left behind (its state records it; the lock is released)."""
    if flow.interrupted_written:
        sys.stderr.write(f'Stopped{" by " + caught.name if caught.name else ""}: '
                         f'{flow.interrupted_written[-1]} object(s) were written and recorded in the state; '
                         'the lock was released. Run plan to see what is left.\n')
