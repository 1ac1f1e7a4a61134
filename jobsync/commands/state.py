"""`jobsync state`, the way `terraform state` works: look at a target's state, make it forget
objects, or drop it whole. Nothing printed; the CLI renders.

The state is what apply remembers of each object it manages (jobsync.state). `rm` forgets
objects without touching the workspace (the next plan compares them two-way, like objects never
applied: a match is adopted, a difference is an update, never a conflict). `reset` drops the
whole state, also one that cannot be read (damaged, or written by something else), which is what
the "cannot be read" errors point to.

`rm` and `reset` take the target's apply lock, so they never race an apply; like `terraform
state list/show`, `list` and `show` only read (the state is one document, written at once:
state.py), so they work while an apply runs, and on a target whose lock an apply left behind.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jobsync import commands
from jobsync.commands.console import Opened, open_target
from jobsync.commands.flow import Locking
from jobsync.errors import StateError, UsageError
from jobsync.model import ObjectKey
from jobsync.state import ObjectState, State, state_key


@dataclass(frozen=True)
class Viewed:
    """A target's state as stored (None: jobsync never applied there, or it was reset)."""

    target: str
    key: str  # where it is kept (state.state_key)
    workspace: str  # the workspace URL
    state: State | None


def _key(opened: Opened) -> str:
    return state_key(opened.target.name, opened.target.scope)


def read(repo: Path, target: str | None, env: Mapping[str, str]) -> Viewed:
    """`state list` / `state show`: the stored state (a StateError if it cannot be read)."""
    with open_target(repo, target, env) as opened:
        key = _key(opened)
        return Viewed(opened.target.name, key, opened.workspace.url, opened.workspace.read_state(key))


def entry(viewed: Viewed, text: str) -> tuple[ObjectKey, ObjectState]:
    """`state show KEY`: the entry of one object; a UsageError naming KEY when the state has none."""
    key = parse_key(text)
    if viewed.state is None or key not in viewed.state.objects:
        raise UsageError(f'the state of target {viewed.target} has no object {text}',
                         hint=f'`jobsync state list --target {viewed.target}` lists what it holds')
    return key, viewed.state.objects[key]


def parse_key(text: str) -> ObjectKey:
    try:
        return ObjectKey.parse(text)
    except ValueError as err:
        raise UsageError(str(err), hint='write it as `jobsync state list` prints it, e.g. job/daily_sales or '
                                        'cdm-job/CLUSTER/NAME') from None


@contextmanager
def _locked(repo: Path, target: str | None, env: Mapping[str, str], locking: Locking) -> Iterator[tuple[Opened, str]]:
    with open_target(repo, target, env) as opened:
        key = _key(opened)
        lease = commands.acquire_lease(opened.workspace, key, owner=locking.owner, run_url=locking.run_url,
                                       timeout_s=locking.timeout_s, on_wait=locking.on_wait)
        try:
            yield opened, key
        finally:
            lease.release()


@dataclass(frozen=True)
class Removed:
    target: str
    removed: tuple[ObjectKey, ...]
    state: State  # the state written


def remove(repo: Path, target: str | None, env: Mapping[str, str], texts: Sequence[str], *,
           locking: Locking) -> Removed:
    """`state rm KEY...`: forget the objects (the workspace is not touched), under the lock.

    Every KEY must be in the state; otherwise nothing is written (like terraform).
    """
    if not texts:
        raise UsageError('name the objects to forget', hint='e.g. `jobsync state rm job/daily_sales`')
    keys = tuple(dict.fromkeys(parse_key(t) for t in texts))
    with _locked(repo, target, env, locking) as (opened, key):
        state = opened.workspace.read_state(key)
        missing = [k for k in keys if state is None or k not in state.objects]
        if state is None or missing:
            raise StateError(f'the state of target {opened.target.name} has no object '
                             f'{", ".join(map(str, missing))}; nothing was written',
                             hint=f'`jobsync state list --target {opened.target.name}` lists what it holds')
        kept = {k: v for k, v in state.objects.items() if k not in keys}
        # A saved plan made before is no longer "already applied": the state moved on.
        new = dataclasses.replace(state, serial=state.serial + 1, objects=kept,
                                  updated_at=time.time_ns() // 1_000_000, plan_digest='')
        opened.workspace.write_state(new)
        return Removed(opened.target.name, keys, new)


@dataclass(frozen=True)
class Reset:
    target: str
    key: str
    workspace: str
    dropped: bool  # False: there was no state


def reset(repo: Path, target: str | None, env: Mapping[str, str], *, locking: Locking) -> Reset:
    """`state reset`: drop the target's state whole, readable or not, under the lock."""
    with _locked(repo, target, env, locking) as (opened, key):
        return Reset(opened.target.name, key, opened.workspace.url, opened.workspace.drop_state(key))


__all__ = ['Removed', 'Reset', 'Viewed', 'entry', 'parse_key', 'read', 'remove', 'reset']
