"""validate, plan and apply as commands: the repo and the target in, values out. Nothing printed.

What only the CLI can do comes in as callables: `confirm` (show the plan and ask, or refuse) and
`on_wait` (say the lock is held); the environment as a mapping.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jobsync import commands, secrets
from jobsync.apply import ApplyInterrupted, check_no_conflicts, check_secrets
from jobsync.errors import Diagnostic
from jobsync.events import OnEvent, Status, ignore
from jobsync.plan import Plan, SameName, Take
from jobsync.state import Lock, state_key
from jobsync.workspace.base import Workspace
from jobsync.workspace.cdmruns import CdmRunPolicy


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
    force: bool = False  # --prune deletes even what other workspace objects still use


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
class CdmRuns:
    """apply's command-line say over a CDM job that is running when apply would overwrite it
    (workspace/cdmruns.py): wait up to `wait_seconds` for its copy to end (None: the target's
    `cdm_wait_seconds`), or stop it (`stop_running`, or the target's `stop_running_cdm_jobs`)."""

    wait_seconds: float | None = None
    stop_running: bool = False


def with_cdm_runs(workspace: Workspace, runs: CdmRuns) -> Workspace:
    """The workspace with the command line's CDM-run choices over the target's (a workspace without
    CDM run handling is returned as is)."""
    policy = getattr(workspace, 'cdm_runs', None)
    if isinstance(policy, CdmRunPolicy):
        workspace.cdm_runs = dataclasses.replace(  # type: ignore[attr-defined]
            policy, stop_running=policy.stop_running or runs.stop_running,
            wait_seconds=policy.wait_seconds if runs.wait_seconds is None else runs.wait_seconds)
    return workspace


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
def _counted_on_interrupt() -> Iterator[None]:
    """An apply interrupted (SIGINT/SIGTERM/SIGHUP) has recorded the state of what it wrote
    (`commands.apply_command`, journal.py) before the lock is released; this keeps how many
    objects went through, for the CLI to say on the way out."""
    try:
        yield
    except ApplyInterrupted as stop:
        interrupted_written.append(sum(1 for o in stop.result.outcomes if o.status is Status.APPLIED))
        raise


def apply(
    repo: Path, ref: str | None, target: str | None, env: Mapping[str, str], *,
    resolver: secrets.SecretResolver, locking: Locking, confirm: Callable[[Plan], None],
    choices: Choices = Choices(), fingerprint_key: bytes | None = None, on_event: OnEvent = ignore,
    on_warnings: Callable[[tuple[Diagnostic, ...]], None] = lambda _: None, cdm_runs: CdmRuns = CdmRuns(),
) -> ApplyRun:
    """`jobsync apply`: plan under the target's lock, `confirm` (raises to stop), then apply and record state.

    `confirm` is called with every plan, also one without writes (to show it); it raises to stop.
    """
    snapshot, chosen, workspace = commands.open_online(repo, ref, target, env)
    with_cdm_runs(workspace, cdm_runs)
    try:
        if not getattr(workspace, 'exists', True):  # a local: file not created yet: refuse before the lock creates it
            # A workspace that does not exist yet holds nothing: no listing needed to say so.
            unlocked = commands.load_listed(snapshot, chosen.name, {})
            check_secrets(commands.plan_command(unlocked, workspace, options=commands.plan_options(
                unlocked.target, **dataclasses.asdict(choices))), resolver)
        key = state_key(chosen.name, chosen.scope)
        lease = _lease(workspace, key, locking)
        try:
            # One listing round, under the lock: loading resolves references with it, the plan
            # compares with it, and the apply takes its statuses and fingerprints from it.
            loaded = commands.load_listed(snapshot, chosen.name, workspace.list_objects())
            on_warnings(tuple(loaded.result.warnings))
            options = commands.plan_options(loaded.target, **dataclasses.asdict(choices))
            # The state, read once under the lock: the plan compares with it, the apply records from it.
            read = commands.StateRead(key, workspace.read_state(key))
            the_plan = commands.plan_command(loaded, workspace, options=options,
                                             resolver=resolver if fingerprint_key else None,
                                             fingerprint_key=fingerprint_key, state_read=read)
            confirm(the_plan)
            check_no_conflicts(the_plan)
            with _counted_on_interrupt():
                applied = commands.apply_command(the_plan, workspace, resolver, on_event, lease=lease,
                                                 fingerprint_key=fingerprint_key, listing=loaded.listing,
                                                 state_read=read)
        finally:
            lease.release()
        used = spent(workspace)
    finally:
        workspace.close()
    return ApplyRun(the_plan, applied, tuple(loaded.result.warnings), used)


def apply_saved(
    the_plan: Plan, target: str | None, env: Mapping[str, str], *, root: Path, resolver: secrets.SecretResolver,
    locking: Locking, fingerprint_key: bytes | None = None, on_event: OnEvent = ignore, repo: Path | None = None,
    cdm_runs: CdmRuns = CdmRuns(),
) -> ApplyRun:
    """`jobsync apply PLAN_FILE`: exactly the saved plan, refused if it is stale or for another target,
    or if `repo` holds the plan's revision and its jobsync.yaml says another workspace."""
    commands.check_plan_target(the_plan, target)
    workspace = with_cdm_runs(commands.open_plan_target(the_plan, root, env, repo), cdm_runs)
    try:
        lease = _lease(workspace, commands.plan_state_key(the_plan), locking)
        try:
            with _counted_on_interrupt():
                applied = commands.apply_saved_plan(the_plan, workspace, resolver, on_event, lease=lease,
                                                    fingerprint_key=fingerprint_key)
        finally:
            lease.release()
        used = spent(workspace)
    finally:
        workspace.close()
    return ApplyRun(the_plan, applied, spent=used)


__all__ = ['ApplyRun', 'CdmRuns', 'Choices', 'Locking', 'Planned', 'Spent', 'Validated', 'apply', 'apply_saved',
           'plan', 'spent', 'validate', 'with_cdm_runs']
