"""Running the `jobsync` command line from tests: in this process by default, as a real process when
a test needs one (signals, kill -9, two processes racing, the installed entry point).

The in-process runner calls `jobsync.cli.main` exactly as `python -m jobsync` does, with its own
argv, environment, working directory, stdin, stdout and stderr, and maps its exit the way the
interpreter does. It starts no interpreter, so a CLI test costs milliseconds instead of the ~0.7 s
of CPU a `python -m jobsync` start takes, and coverage sees `jobsync/cli`. Whatever process-global
state a command might change (os.environ, cwd, sys streams and argv, signal handlers, logging
configuration) is put back afterwards, so one CLI run never leaks into the next test.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import threading
import traceback
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

# Every secret the example repo references, with canary values tests can search output for.
EXAMPLE_SECRETS = {
    'DWS_PASSWORD': 'canary-dws-7f3a9c',
    'MYSQL_PASSWORD': 'canary-mysql-51be02',
    'MRS_HIVE_PASSWORD': 'canary-hive-c0ffee',
    'ETL_HOST_PASSWORD': 'canary-host-d15ea5e',
}

# A generous bound on any one CLI process: a failure guard, never a synchronisation.
PROCESS_TIMEOUT_S = 120

_MAIN_PY = str(Path(__file__).resolve().parents[1] / 'jobsync' / '__main__.py')
# The signals a command could install handlers for (issue 13: SIGTERM and SIGHUP like SIGINT).
_SIGNALS = tuple(getattr(signal, name) for name in ('SIGINT', 'SIGTERM', 'SIGHUP') if hasattr(signal, name))


class CliResult:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr

    def __repr__(self) -> str:
        return f'CliResult(code={self.code}, stdout={self.stdout[-2000:]!r}, stderr={self.stderr[-2000:]!r})'


def cli_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment a CLI run sees: this process's, less the example secrets and every
    JOBSYNC_* variable (so a developer's own settings never leak into a test), plus `env`."""
    full = {k: v for k, v in os.environ.items() if k not in EXAMPLE_SECRETS and not k.startswith('JOBSYNC_')}
    full.update(env or {})
    return full


def run_jobsync(*args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None,
                stdin: str | None = None) -> CliResult:
    """Run `jobsync ARGS` in this process, as a user's shell would run it (same exit code, same
    output on stdout and stderr, stdin not a terminal)."""
    out, err = _stream(b'', 'strict'), _stream(b'', 'backslashreplace')
    with _isolated(cli_env(env), cwd, _stream((stdin or '').encode('utf-8'), 'strict'), out, err, args):
        code = _call_main()
    return CliResult(code, _text(out), _text(err))


def run_jobsync_process(*args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None,
                        stdin: str | None = None) -> CliResult:
    """Run `python -m jobsync ARGS` as a real process (for tests that need one)."""
    proc = subprocess.run(
        [sys.executable, '-m', 'jobsync', *args], capture_output=True, text=True, env=cli_env(env), cwd=cwd,
        input=stdin, timeout=PROCESS_TIMEOUT_S,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


class JobsyncProcess:
    """`python -m jobsync ARGS` running in the background. Two threads read its stdout and stderr
    as it prints (so a full pipe never stalls it), and a test waits on what it says rather than on
    a clock: `wait_for('waiting up to 60s')`, act, then `finish()`."""

    def __init__(self, args: tuple[str, ...], env: Mapping[str, str] | None, cwd: Path | None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, '-u', '-m', 'jobsync', *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=cli_env(env), cwd=cwd,
        )
        self._lines: dict[str, list[str]] = {'stdout': [], 'stderr': []}
        self._closed: set[str] = set()
        self._changed = threading.Condition()
        self._readers = [threading.Thread(target=self._read, args=(name, stream), daemon=True)
                         for name, stream in (('stdout', self.proc.stdout), ('stderr', self.proc.stderr))]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in iter(stream.readline, ''):
            with self._changed:
                self._lines[name].append(line)
                self._changed.notify_all()
        with self._changed:
            self._closed.add(name)
            self._changed.notify_all()

    def printed(self, stream: str = 'stderr') -> str:
        with self._changed:
            return ''.join(self._lines[stream])

    def wait_for(self, marker: str, stream: str = 'stderr', *, guard_s: float = PROCESS_TIMEOUT_S) -> str:
        """Block until `stream` has a line containing `marker`; what it printed so far. The stream
        ending first fails the test; `guard_s` is only a bound on a hung process."""
        def seen() -> bool:
            return any(marker in line for line in self._lines[stream]) or stream in self._closed

        with self._changed:
            if not self._changed.wait_for(seen, timeout=guard_s):
                raise AssertionError(f'no {marker!r} on {stream} within {guard_s}s:\n{"".join(self._lines[stream])}')
            text = ''.join(self._lines[stream])
        if marker not in text:
            self.finish()
            raise AssertionError(f'the process ended (exit {self.proc.returncode}) without printing {marker!r}; '
                                 f'stdout:\n{self.printed("stdout")}\nstderr:\n{self.printed("stderr")}')
        return text

    def finish(self, *, guard_s: float = PROCESS_TIMEOUT_S) -> CliResult:
        """Wait for the process to exit (killed after `guard_s`, a failure guard) and read all it printed."""
        try:
            self.proc.wait(timeout=guard_s)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            for reader in self._readers:
                reader.join(timeout=guard_s)
        return CliResult(self.proc.returncode, self.printed('stdout'), self.printed('stderr'))


def start_jobsync_process(*args: str, env: Mapping[str, str] | None = None,
                          cwd: Path | None = None) -> JobsyncProcess:
    """`python -m jobsync ARGS` started in the background (see `JobsyncProcess`)."""
    return JobsyncProcess(args, env, cwd)


# --- the in-process run --------------------------------------------------------------------------

def _stream(initial: bytes, errors: str) -> io.TextIOWrapper:
    """A text stream over bytes, as a pipe looks to Python: UTF-8, not a terminal, no fileno."""
    return io.TextIOWrapper(io.BytesIO(initial), encoding='utf-8', errors=errors, newline='\n',
                            write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    stream.flush()
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    return raw.getvalue().decode('utf-8', errors='replace')


def _call_main() -> int:
    """`jobsync.cli.main()`, its end mapped as the interpreter maps it to an exit status."""
    from jobsync.cli import main

    try:
        main()
    except SystemExit as stop:
        return _exit_status(stop.code)
    except KeyboardInterrupt:  # the interpreter re-raises SIGINT on itself: killed by the signal
        traceback.print_exc()
        return -signal.SIGINT
    except BaseException:  # an uncaught exception: a traceback on stderr, exit 1
        traceback.print_exc()
        return 1
    return 0


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code % 256
    print(code, file=sys.stderr)  # sys.exit('message') prints it and exits 1
    return 1


@dataclass
class _LoggerState:
    level: int
    propagate: bool
    disabled: bool
    handlers: list[logging.Handler] = field(default_factory=list)
    filters: list[object] = field(default_factory=list)


def _loggers() -> dict[str, logging.Logger]:
    found = {name: lg for name, lg in logging.Logger.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    found[''] = logging.getLogger()
    return found


@contextmanager
def _logging_kept() -> Iterator[None]:
    """Loggers' levels, handlers and filters as they were (the emulator adds filters, uvicorn
    configures handlers; a real process would take them to its grave)."""
    before = {name: _LoggerState(lg.level, lg.propagate, lg.disabled, list(lg.handlers), list(lg.filters))
              for name, lg in _loggers().items()}
    disable = logging.root.manager.disable
    try:
        yield
    finally:
        logging.disable(disable)
        for name, lg in _loggers().items():
            state = before.get(name)
            if state is None:  # made during the run: leave it inert
                lg.handlers.clear()
                lg.filters.clear()
                continue
            lg.setLevel(state.level)
            lg.propagate, lg.disabled = state.propagate, state.disabled
            lg.handlers[:] = state.handlers
            lg.filters[:] = state.filters  # type: ignore[assignment]


@contextmanager
def _isolated(env: dict[str, str], cwd: Path | None, stdin: io.TextIOWrapper, stdout: io.TextIOWrapper,
              stderr: io.TextIOWrapper, args: tuple[str, ...]) -> Iterator[None]:
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    saved_argv = sys.argv
    saved_main = sys.modules['__main__']
    saved_signals = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    # What `python -m jobsync` sees as __main__, so click names the program as it does there
    # ('Usage: python -m jobsync ...').
    fake_main = types.ModuleType('__main__')
    fake_main.__package__ = 'jobsync'
    fake_main.__file__ = _MAIN_PY
    try:
        with _logging_kept():
            os.environ.clear()
            os.environ.update(env)
            if cwd is not None:
                os.chdir(cwd)
            sys.argv = [_MAIN_PY, *args]
            sys.modules['__main__'] = fake_main
            sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
            try:
                yield
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        sys.argv = saved_argv
        sys.modules['__main__'] = saved_main
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        for sig, handler in saved_signals.items():
            if handler is not None:
                signal.signal(sig, handler)
