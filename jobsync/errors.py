"""One error family. Library code raises these; only `cli.py` turns them into output and exit codes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Diagnostic:
    """One problem found while reading the repo, with where it is and what to do."""

    severity: Literal['error', 'warning']
    summary: str
    where: str = ''  # 'jobs/daily.yaml:12#/schedule/cron/expression' or 'job/daily'
    hint: str = ''

    def __str__(self) -> str:
        text = f'{self.severity}: {self.where}: {self.summary}' if self.where else f'{self.severity}: {self.summary}'
        return f'{text}\n  hint: {self.hint}' if self.hint else text


class JobsyncError(Exception):
    """Base of every expected failure; `hint` says what the user can do about it."""

    def __init__(self, message: str, *, hint: str = '') -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(JobsyncError):
    """The repo (definitions or jobsync.yaml) has problems; carries all of them."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        errors = sum(1 for d in diagnostics if d.severity == 'error')
        super().__init__(f'{errors} problem(s) in the repo')
        self.diagnostics = tuple(diagnostics)


class UsageError(JobsyncError):
    """The command line asks for something that cannot be done as asked."""


class SecretError(JobsyncError):
    """A secret reference cannot be resolved. The message names the reference, never a value."""


class PlanError(JobsyncError):
    """A saved plan cannot be applied (stale, other target, unknown format)."""


class WorkspaceError(JobsyncError):
    """The workspace (local engine or DataArts service) refused or failed a call.

    `code` is the service's error code (`DLF.0100`, `Cdm.0052`, `APIGW.0301`), `status` the
    HTTP status (0 for the in-process engine), `request_id` the service's request id.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = '',
        status: int = 0,
        request_id: str = '',
        hint: str = '',
        not_found: bool = False,
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.status = status
        self.request_id = request_id
        self.not_found = not_found

    def __str__(self) -> str:
        parts = [self.message]
        details = ', '.join(
            p for p in (self.code, f'HTTP {self.status}' if self.status else '',
                        f'request id {self.request_id}' if self.request_id else '') if p
        )
        if details:
            parts.append(f'({details})')
        return ' '.join(parts)


class ImportRefused(WorkspaceError):
    """An import was refused, whole or in part.

    `reasons` maps the string form of an object key to why that object was refused. `written`
    is None when nothing was written (the package is all or nothing, as the local workspace's
    import is); a backend that writes object by object (the HTTP backend) lists the keys that
    did go through, so that apply need not write them again.
    """

    def __init__(self, message: str, reasons: dict[str, str], *, code: str = '',
                 written: Iterable[str] | None = None) -> None:
        super().__init__(message, code=code)
        self.reasons = dict(reasons)
        self.written = None if written is None else frozenset(written)


class StateError(JobsyncError):
    """The target's state (what jobsync last applied) is unreadable, or changed under a write."""


class LockError(JobsyncError):
    """The target's lock is held by someone else, was lost, or cannot be freed as asked.

    `holder` is the lock that stands in the way (a `jobsync.state.Lock`), when there is one.
    """

    def __init__(self, message: str, *, hint: str = '', holder: object | None = None) -> None:
        super().__init__(message, hint=hint)
        self.holder = holder
