"""One structured event and one outcome type for apply and the console operations (run, stop, delete).

Library code reports what happens through `Event`s (never by printing) and ends every object it
touched with an `Outcome`; results are tuples of outcomes. The renderers (`render/`) turn both
into text, markdown or JSON, so progress and results always come from the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from jobsync.model import ObjectKey


class Status(str, Enum):
    """How an object ended. APPLIED: the operation was carried out (written, started, stopped, deleted)."""

    APPLIED = 'applied'
    FAILED = 'failed'
    SKIPPED = 'skipped'


@dataclass(frozen=True)
class Outcome:
    """How one object ended.

    `action` is what was done to it: a plan action for apply (`create`, `update`, `delete`), or
    the operation (`run`, `stop`, `delete`). `state` is the last state seen or the word for what
    happened (`SUCCEEDED`, `SCHEDULING`, `started`, `gone`, ...); empty for apply. `message`
    says why, for people (an error, `instance 42`, `still used by ...`).
    """

    key: ObjectKey
    action: str
    status: Status
    message: str = ''
    state: str = ''

    @property
    def ok(self) -> bool:
        return self.status is Status.APPLIED


class EventKind(str, Enum):
    BATCH = 'batch'  # a batch starts: `batch` is (number, of), `message` what it holds
    NOTE = 'note'  # something done on the way: a job stopped before overwrite, restarted
    STATUS = 'status'  # an object's state seen for the first time (started, BOOTING, RUNNING, ...)
    OUTCOME = 'outcome'  # an object ended: `outcome` says how
    WRITTEN = 'written'  # an object went through while its package is still being written


@dataclass(frozen=True)
class Event:
    """Progress while apply or a console operation runs. Pure data: `render.progress` words it."""

    kind: EventKind
    key: ObjectKey | None = None
    batch: tuple[int, int] | None = None
    outcome: Outcome | None = None
    message: str = ''


OnEvent = Callable[[Event], None]


def ignore(_: Event) -> None:
    return None


@dataclass(frozen=True)
class Results:
    """Every object's outcome, in key order (the apply result and the console operations' result)."""

    outcomes: tuple[Outcome, ...]

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    def count(self, status: Status | bool) -> int:
        """Objects that ended with `status`; with a bool, those that ended ok (True) or not (False)."""
        if isinstance(status, Status):
            return sum(1 for o in self.outcomes if o.status is status)
        return sum(1 for o in self.outcomes if o.ok is status)
