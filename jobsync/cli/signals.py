"""SIGTERM (what CI runners send on cancel) and SIGHUP handled like SIGINT.

Each raises `KeyboardInterrupt` in the main thread, so the running call is finished or abandoned,
the apply records the state of what it wrote (commands/flow.py) and `finally` blocks release the
lock. The exit status then says which signal it was: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP),
the shell's 128 + signal number.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ['EXIT_CODES', 'Caught', 'handled']

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


class Caught:
    """The first signal received while `handled` was in force (None: none)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ''

    @property
    def exit_code(self) -> int | None:
        return EXIT_CODES.get(signal.Signals(self.signum)) if self.signum is not None else None


@contextmanager
def handled() -> Iterator[Caught]:
    """Turn SIGINT, SIGTERM and SIGHUP into `KeyboardInterrupt` while the block runs; the previous
    handlers come back after. Off the main thread (an in-process test run) signals are left alone."""
    caught = Caught()
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        if caught.signum is None:
            caught.signum = signum
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in EXIT_CODES}
    try:
        yield caught
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
