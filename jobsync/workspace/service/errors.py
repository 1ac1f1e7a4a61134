"""The service's errors: `EngineError` and the codes the service spells (reference §11).

Every refusal of the embedded service model is an `EngineError` carrying the code as the
real service spells it, so callers (and the emulator's error bodies) cannot tell the engine
from the real thing. `StoreError` is not the service's: it is the file under it that is
damaged or not a jobsync workspace at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from jobsync.errors import WorkspaceError

Family = Literal['dlf', 'dayu', 'cdm']

# The not-found codes of every family: callers test `not_found`, never the code list.
NOT_FOUND_CODES = frozenset({
    'DLF.0100', 'DLF.0137', 'DLF.0810', 'DLF.6201', 'DLF.6241', 'DLF.6322', 'DAYU.1005',
    'Cdm.0001', 'Cdm.0054', 'Cdm.0100', 'Cdm.0101',
})


class EngineError(WorkspaceError):
    """The service refused a call: `code` as the service spells it, `status` its HTTP status.

    `family` says which error body the emulator writes: `dlf` `{"error_code","error_msg"}`,
    `dayu` `{"errors":[{"error_code","error_msg"}]}`, `cdm` `{"code","errCode","message",
    "externalMessage"}` (reference §3.1). `not_found` is set for the not-found codes.
    """

    def __init__(self, code: str, message: str, *, family: Family | None = None, status: int = 400) -> None:
        super().__init__(message, code=code, status=status, not_found=code in NOT_FOUND_CODES)
        if family is None:
            family = 'cdm' if code.startswith('Cdm.') else 'dayu' if code.startswith('DAYU.') else 'dlf'
        self.family: Family = family


class StoreError(WorkspaceError):
    """The workspace file cannot be used: damaged, or not a jobsync workspace database.

    A user problem, not a bug: the message names the file and what to do about it.
    """

    def __init__(self, path: Path, problem: str, hint: str) -> None:
        super().__init__(f'{path}: {problem}', hint=hint)
        self.path = path


def dlf(code: str, message: str) -> EngineError:
    """A DataArts Factory error (`{"error_code","error_msg"}` body)."""
    return EngineError(code, message, family='dlf')


def dayu(code: str, message: str) -> EngineError:
    """A Management Center error (`{"errors":[...]}` body)."""
    return EngineError(code, message, family='dayu')


def cdm(code: str, message: str) -> EngineError:
    """A CDM error (`{"code","errCode","message","externalMessage"}` body)."""
    return EngineError(code, message, family='cdm')


def check_paging(limit: int, offset: int, *, maximum: int = 100) -> None:
    """The Factory and Management Center list calls' `limit`/`offset` rule (`DLF.3051`)."""
    if not 1 <= limit <= maximum:
        raise dlf('DLF.3051', f'The request parameter is invalid: limit must be 1 to {maximum}, not {limit}.')
    if offset < 0:
        raise dlf('DLF.3051', f'The request parameter is invalid: offset must be 0 or more, not {offset}.')
