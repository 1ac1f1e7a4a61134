"""What every command shares: output through the redactor, the error handler, common options.

The CLI is the only place that reads argv and env, prints, prompts and exits. Exit codes: 0
success (plan: nothing to do), 1 expected failure, 2 changes present (plan --detailed-exitcode),
3 a bug in jobsync, 64 a usage error, 130 interrupted.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

try:  # typer >= 0.20 vendors its own click; its exceptions are not the `click` package's
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older typer on top of click
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

__all__ = ['click_exceptions']

from jobsync import secrets
from jobsync.cli.jsonerror import error_document
from jobsync.errors import ConfigError, Diagnostic, JobsyncError, UsageError
from jobsync.render import escape

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_BUG, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 3, 64, 130


class Format(str, Enum):
    TEXT = 'text'
    JSON = 'json'
    MARKDOWN = 'markdown'


TEXT_JSON = (Format.TEXT, Format.JSON)
ALL_FORMATS = (Format.TEXT, Format.JSON, Format.MARKDOWN)


def require_format(command: str, fmt: Format, allowed: tuple[Format, ...], output: Output) -> None:
    """Refuse, as a usage error (exit 64), a --format the command has no renderer for."""
    if fmt not in allowed:
        output.err(f'Error: `jobsync {command}` has no {fmt.value} output; --format takes '
                   f'{", ".join(f.value for f in allowed)}.\n')
        raise typer.Exit(EXIT_USAGE)


def read_env() -> dict[str, str]:
    """The process environment, read once per command and passed down (commands read no env)."""
    return dict(os.environ)

RepoOpt = Annotated[Path, typer.Option('--repo', help='Path to the definitions repo.', show_default='.')]
TargetOpt = Annotated[
    str | None, typer.Option('--target', help='Target from jobsync.yaml (default: its default_target).'),
]
RefOpt = Annotated[
    str | None, typer.Option('--ref', help='Read definitions from this git revision instead of the working tree.'),
]
FormatOpt = Annotated[Format, typer.Option('--format', help='Output format.')]
# Commands whose output is no pull-request reading take text and JSON only (markdown: exit 64).
TextJsonFormatOpt = Annotated[Format, typer.Option('--format', help='Output format: text or json.',
                                                   metavar='<text|json>')]
SecretsDirOpt = Annotated[
    Path | None,
    typer.Option('--secrets-dir', help='Directory for ${secret:file:...} references [env: JOBSYNC_SECRETS_DIR].'),
]


class Output:
    """Every byte jobsync prints passes through the redactor, then the escaper.

    The renderers escape names and content themselves (so that a newline in a name cannot start a
    line); escaping here again catches what reaches the terminal by other ways (an error message
    echoing a workspace name or a service's answer). It keeps newlines and tabs, and is a no-op on
    rendered output. Redaction comes first, so a secret holding a control character is still found.
    """

    def __init__(self) -> None:
        self.redactor = secrets.Redactor.for_credentials(os.environ)  # AK, SK, token: never printed
        self.wrote_out = False  # a JSON error document only when stdout holds no document yet

    def out(self, text: str, paint: Callable[[str], str] | None = None) -> None:
        """`paint` (colour for a terminal, render/colour.py) comes last: escaping would show its codes."""
        self.wrote_out = self.wrote_out or bool(text)
        safe = escape.text(self.redactor.scrub(text))
        sys.stdout.write(paint(safe) if paint is not None else safe)
        sys.stdout.flush()

    def err(self, text: str) -> None:
        sys.stderr.write(escape.text(self.redactor.scrub(text)))
        sys.stderr.flush()


def diagnostics_text(diagnostics: tuple[Diagnostic, ...]) -> str:
    return ''.join(f'{d}\n' for d in diagnostics)


@contextmanager
def error_handler(output: Output, fmt: Format | None = None) -> Iterator[None]:
    """Expected failures as a message on stderr and exit 1 (never a traceback). With `fmt` JSON,
    stdout also gets a JSON error document, so a pipeline reading it always has one to read."""
    as_json = fmt is Format.JSON

    def document(kind: str, message: str, hint: str = '', diagnostics: tuple[Diagnostic, ...] = ()) -> None:
        if as_json and not output.wrote_out:
            output.out(error_document(kind, message, hint, diagnostics))

    try:
        yield
    except ConfigError as err:
        output.err(diagnostics_text(err.diagnostics))
        output.err(f'Error: {err.message}.\n')
        document('config', err.message, err.hint, err.diagnostics)
        raise typer.Exit(EXIT_ERROR) from None
    except JobsyncError as err:
        output.err(f'Error: {err}\n' + (f'  hint: {err.hint}\n' if err.hint else ''))
        document('error', str(err), err.hint)
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        output.err('Interrupted.\n')
        document('interrupted', 'interrupted')
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (typer.Exit, typer.Abort, click_exceptions.ClickException):
        raise
    except Exception as err:  # a bug: say so, without a traceback a user cannot act on
        if type(err).__name__ == 'GitCommandNotFound':  # gitpython loaded, then no `git` on PATH to run
            message, hint = ('this needs the `git` executable, which is not on PATH',
                             'install git (e.g. `apt-get install git` or `apk add git`), or set '
                             'GIT_PYTHON_GIT_EXECUTABLE to its path')
            output.err(f'Error: {message}\n  hint: {hint}\n')
            document('error', message, hint)
            raise typer.Exit(EXIT_ERROR) from None
        output.err(f'Internal error: {type(err).__name__}: {err}\n'
                   '  This is a bug in jobsync; please report it with the command you ran '
                   '(set JOBSYNC_DEBUG=1 for a traceback).\n')
        if os.environ.get('JOBSYNC_DEBUG'):  # the traceback too goes through the redactor
            output.err(traceback.format_exc())
        document('bug', f'{type(err).__name__}: {err}', 'this is a bug in jobsync; please report it')
        raise typer.Exit(EXIT_BUG) from None


def parse_duration(text: str, *, option: str) -> float:
    """Seconds from `90`, `90s`, `5m` or `1h`; a UsageError naming `option` otherwise."""
    units = {'s': 1, 'm': 60, 'h': 3600}
    raw = text.strip().lower()
    scale = units.get(raw[-1:], 0)
    number = raw[:-1] if scale else raw
    try:
        value = float(number) * (scale or 1)
    except ValueError:
        value = -1.0
    if value < 0:
        raise UsageError(f'{option} {text!r} is not a duration', hint='write seconds (90), or 90s, 5m, 1h')
    return value


def fingerprint_key_from_env(env: Mapping[str, str]) -> bytes | None:
    """JOBSYNC_FINGERPRINT_KEY: the key of the secret fingerprints (HMAC) kept in the state."""
    key = env.get('JOBSYNC_FINGERPRINT_KEY')
    return key.encode('utf-8') if key else None


def lock_owner_from_env(env: Mapping[str, str]) -> tuple[str, str]:
    """Who holds the lock, for people reading 'locked by ...': (owner, CI run URL or '')."""
    user = env.get('JOBSYNC_LOCK_OWNER') or env.get('GITHUB_ACTOR') or env.get('GITLAB_USER_LOGIN') or _login()
    owner = f'{user}@{socket.gethostname()} (pid {os.getpid()})'
    run_url = env.get('JOBSYNC_RUN_URL', '')
    if not run_url and env.get('GITHUB_RUN_ID') and env.get('GITHUB_REPOSITORY'):
        server = env.get('GITHUB_SERVER_URL', 'https://github.com')
        run_url = f'{server}/{env["GITHUB_REPOSITORY"]}/actions/runs/{env["GITHUB_RUN_ID"]}'
    if not run_url:
        run_url = env.get('CI_JOB_URL', '')
    return owner, run_url


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return 'unknown'


def secrets_dir_from(option: Path | None, env: Mapping[str, str]) -> Path | None:
    if option is not None:
        return option
    value = env.get('JOBSYNC_SECRETS_DIR')
    return Path(value) if value else None


def resolver_for(output: Output, env: Mapping[str, str], secrets_dir: Path | None) -> secrets.SecretResolver:
    """The secret resolver over `env` and the secrets directory, redacting through `output`."""
    return secrets.default_resolver(output.redactor, env, secrets_dir_from(secrets_dir, env))


