"""The command line. Command modules register on `app`; `main` is the entry point."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from jobsync.cli import core, emulator, export, init, lock, ops  # noqa: F401  (registers the commands)
from jobsync.cli.app import app
from jobsync.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, click_exceptions
from jobsync.cli.examples import attach

__all__ = ['app', 'main']

attach(app)


def main() -> NoReturn:
    """Entry point: click's usage errors exit 64, so CI never reads a typo as 'changes present'."""
    try:
        code = app(standalone_mode=False)
    except click_exceptions.UsageError as err:
        err.show()
        code = EXIT_USAGE
    except typer.Abort:
        sys.stderr.write('Aborted.\n')
        code = EXIT_INTERRUPTED
    except click_exceptions.ClickException as err:
        err.show()
        code = EXIT_ERROR
    sys.exit(code if isinstance(code, int) else 0)
