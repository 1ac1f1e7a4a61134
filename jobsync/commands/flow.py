"""validate, plan and apply as commands: the repo and the target in, values out. Nothing printed.

What only the CLI can do comes in as callables: `confirm` (show the plan and ask, or refuse) and
`on_wait` (say the lock is held); the environment as a mapping.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jobsync import commands, secrets
from jobsync.apply import ApplyInterrupted, check_no_conflicts, check_secrets, recorded_state
from jobsync.errors import Diagnostic
from jobsync.events import OnEvent, Status, ignore
from jobsync.plan import Plan, SameName, Take
from jobsync.state import Lock, state_key
from jobsync.workspace.base import Workspace


@dataclass(frozen=True)
class Validated:
    loaded: commands.Loaded
    secret_problems: tuple[str, ...] = ()  # with a resolver: references that do not resolve

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(self.loaded.result.warnings)


def validate(
    repo: Path, ref: str | None, target: str | None, env: Mapping[str, str], *, online: bool = False,
    resolver: secrets.SecretResolver | None = None,
) -> Validated:
    """`jobsync validate`: every definition for the target; with `resolver`, every secret reference too."""
    if online:
        loaded, workspace = commands.load_online(repo, ref, target, env)
        workspace.close()
    else:
        loaded = commands.load(repo, ref, target)
    problems = commands.check_secrets(loaded, resolver) if resolver is not None else []
    return Validated(loaded, tuple(problems))


@dataclass(frozen=True)
class Choices:
    """What the user chose on the command line for plan and apply."""

    refresh_secrets: bool = False
    take: Take | None = None
    prune: bool = False
    allow_mass_delete: bool = False
    same_name: SameName | None = None  # None: the target's `same_name` (overwrite by default)


@dataclass(frozen=True)
class Planned:
    plan: Plan
    warnings: tuple[Diagnostic, ...] = ()


def plan(
    repo: Path, ref: str | None, target: str | None, env: Mapping[str, str], *, choices: Choices = Choices(),
    base: str | None = None, resolver: secrets.SecretResolver | None = None, fingerprint_key: bytes | None = None,
) -> Planned:
    """`jobsync plan`: what apply would change; never writes to the workspace."""
    loaded, workspace = commands.load_online(repo, ref, target, env)
    try:
        base_loaded = commands.load_base(loaded, base) if base is not None else None
        options = commands.plan_options(loaded.target, **dataclasses.asdict(choices))
        the_plan = commands.plan_command(loaded, workspace, options=options, base=base_loaded,
                                         resolver=resolver if fingerprint_key else None,
                                         fingerprint_key=fingerprint_key)
    finally:
        workspace.close()
    return Planned(the_plan, tuple(loaded.result.warnings))


@dataclass(frozen=True)
class Locking:
    """Who takes the target's lock, and how long to wait for it."""

    owner: str
    run_url: str = ''
    timeout_s: float = 0.0
    on_wait: Callable[[Lock], None] = lambda _: None


@dataclass(frozen=True)
class Spent:
    """What the service made an apply do: API calls, retries and throttle (429) waits."""

    calls: int = 0
    retries: int = 0
    throttle_waits: int = 0
    by_route: Mapping[str, int] = dataclasses.field(default_factory=dict)  # every call of the command, by route


def spent(workspace: Workspace) -> Spent:
    """The counters of the workspace's transport (calls always; retries and throttle waits when
    it retries, as `RetryingTransport` does): every call of the command, loading, listing, state
    and lock included."""
    http = getattr(workspace, 'http', None)
    return Spent(sum(workspace.calls.values()), sum(getattr(http, 'retries', {}).values()),
                 sum(getattr(http, 'throttled', {}).values()), dict(sorted(workspace.calls.items())))


@dataclass(frozen=True)
class ApplyRun:
    """An apply's plan, and what it did (None: the plan had nothing to write)."""

    plan: Plan
    applied: commands.Applied
    warnings: tuple[Diagnostic, ...] = ()
    spent: Spent = Spent()


def _lease(workspace: Workspace, key: str, locking: Locking) -> commands.Lease:
    return commands.acquire_lease(workspace, key, owner=locking.owner, run_url=locking.run_url,
                                  timeout_s=locking.timeout_s, on_wait=locking.on_wait)


# How many objects an interrupted apply of this process wrote (the CLI says it on the way out).
interrupted_written: list[int] = []


@contextmanager
def _recorded_on_interrupt(the_plan: Plan, workspace: Workspace, lease: commands.Lease) -> Iterator[None]:
    """An apply interrupted (SIGINT/SIGTERM/SIGHUP) records the state of what it wrote before the
    lock is released, so a re-run sees those objects as its own, not as conflicts; `written` on
    the re-raised interrupt says how many objects went through."""
    try:
        yield
    except ApplyInterrupted as stop:
        written = sum(1 for o in stop.result.outcomes if o.status is Status.APPLIED)
        interrupted_written.append(written)
        if written:
            key = commands.plan_state_key(the_plan)
            old = workspace.read_state(key)
            listed = workspace.list_objects()
            new = recorded_state(old, the_plan, stop.result, {k: e.updated for k, e in listed.items()}, {},
                                 now=time.time_ns() // 1_000_000, kept_as=key)
            lease.renew()
            workspace.write_state(new)
        raise


def apply(
    repo: Path, ref: str | None, target: str | None, env: Mapping[str, str], *,
    resolver: secrets.SecretResolver, locking: Locking, confirm: Callable[[Plan], None],
    choices: Choices = Choices(), fingerprint_key: bytes | None = None, on_event: OnEvent = ignore,
    on_warnings: Callable[[tuple[Diagnostic, ...]], None] = lambda _: None,
) -> ApplyRun:
    """`jobsync apply`: plan under the target's lock, `confirm` (raises to stop), then apply and record state.

    `confirm` is called with every plan, also one without writes (to show it); it raises to stop.
    """
    snapshot, chosen, workspace = commands.open_online(repo, ref, target, env)
    try:
        if not getattr(workspace, 'exists', True):  # a local: file not created yet: refuse before the lock creates it
            # A workspace that does not exist yet holds nothing: no listing needed to say so.
            unlocked = commands.load_listed(snapshot, chosen.name, {})
            check_secrets(commands.plan_command(unlocked, workspace, options=commands.plan_options(
                unlocked.target, **dataclasses.asdict(choices))), resolver)
        lease = _lease(workspace, state_key(chosen.name, chosen.scope), locking)
        try:
            # One listing round, under the lock: loading resolves references with it, the plan
            # compares with it, and the apply takes its statuses and fingerprints from it.
            loaded = commands.load_listed(snapshot, chosen.name, workspace.list_objects())
            on_warnings(tuple(loaded.result.warnings))
            options = commands.plan_options(loaded.target, **dataclasses.asdict(choices))
            the_plan = commands.plan_command(loaded, workspace, options=options,
                                             resolver=resolver if fingerprint_key else None,
                                             fingerprint_key=fingerprint_key)
            confirm(the_plan)
            check_no_conflicts(the_plan)
            with _recorded_on_interrupt(the_plan, workspace, lease):
                applied = commands.apply_command(the_plan, workspace, resolver, on_event, lease=lease,
                                                 fingerprint_key=fingerprint_key, listing=loaded.listing)
        finally:
            lease.release()
        used = spent(workspace)
    finally:
        workspace.close()
    return ApplyRun(the_plan, applied, tuple(loaded.result.warnings), used)


def apply_saved(
    the_plan: Plan, target: str | None, env: Mapping[str, str], *, root: Path, resolver: secrets.SecretResolver,
    locking: Locking, fingerprint_key: bytes | None = None, on_event: OnEvent = ignore, repo: Path | None = None,
) -> ApplyRun:
    """`jobsync apply PLAN_FILE`: exactly the saved plan, refused if it is stale or for another target,
    or if `repo` holds the plan's revision and its jobsync.yaml says another workspace."""
    commands.check_plan_target(the_plan, target)
    workspace = commands.open_plan_target(the_plan, root, env, repo)
    try:
        lease = _lease(workspace, commands.plan_state_key(the_plan), locking)
        try:
            with _recorded_on_interrupt(the_plan, workspace, lease):
                applied = commands.apply_saved_plan(the_plan, workspace, resolver, on_event, lease=lease,
                                                    fingerprint_key=fingerprint_key)
        finally:
            lease.release()
        used = spent(workspace)
    finally:
        workspace.close()
    return ApplyRun(the_plan, applied, spent=used)


__all__ = ['ApplyRun', 'Choices', 'Locking', 'Planned', 'Spent', 'Validated', 'apply', 'apply_saved',
           'plan', 'spent', 'validate']
