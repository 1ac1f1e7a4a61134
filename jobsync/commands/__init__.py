"""The pipeline stages wired together, one function per command. No printing, no argv, no env.

Time and waiting (`clock`, `sleep`) and the environment (`env`, a mapping the CLI reads once) come
in as arguments from the CLI, like everything else that touches the world. This module holds the
stages plan and apply are made of; the commands themselves are in `flow` (validate, plan,
apply), `pull` (export, import-bundle, drift) and `console` (run, stop, delete, groups,
force-unlock). Each returns values; the CLI renders them.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from jobsync import schema, secrets
from jobsync.apply import ApplyInterrupted, ApplyResult, apply_plan, check_no_conflicts
from jobsync.commands.inuse import refuse_if_used
from jobsync.config import Target
from jobsync.errors import LockError, PlanError, UsageError
from jobsync.events import OnEvent
from jobsync.gitrepo import NO_COMMITS, NOT_IN_GIT, Snapshot, read_snapshot
from jobsync.journal import Journal
from jobsync.load import LoadResult, load_config, load_repo
from jobsync.model import Definition, LiveObject, ObjectKey, Spec
from jobsync.plan import (
    FORMAT_VERSION,
    Action,
    Plan,
    PlanOptions,
    SameName,
    Take,
    branch_changes,
    definition_hashes,
    keys_to_read,
    make_plan,
    stale_changes,
)
from jobsync.planfile import plan_digest, plan_from_json
from jobsync.planlimits import check_limits
from jobsync.planseal import check_target_config
from jobsync.planseal import verify as plan_verify
from jobsync.scope import parse_scope
from jobsync.state import Lock, State, format_ms, secret_fingerprint, state_key
from jobsync.workspace.base import ListEntry, Workspace
from jobsync.workspace.connect import open_workspace
from jobsync.workspace.package import estimate_package_bytes

# A secret's value may be longer than its reference (a keytab is kilobytes): leave room for it
# when estimating a package, so a batch never grows past the limit once secrets are filled in.
SECRET_ALLOWANCE_BYTES = 8 * 1024
DEFAULT_LOCK_TTL_MS = 15 * 60 * 1000  # a lease is renewed before every batch, so this bounds a stall, not an apply
LOCK_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Loaded:
    snapshot: Snapshot
    result: LoadResult
    target: Target
    listing: Mapping[ObjectKey, ListEntry] | None = None  # the workspace's list round, when loading used it


def load(repo: Path, ref: str | None, target: str | None) -> Loaded:
    """Read and validate the repo (working tree, or commit `ref`) for the target, offline.

    Every reference must resolve in the repo itself (after the target's variables and remapping).
    """
    snapshot = read_snapshot(repo, ref)
    result = load_repo(snapshot, target)
    return Loaded(snapshot, result, result.target)


def load_online(
    repo: Path, ref: str | None, target: str | None, env: Mapping[str, str],
) -> tuple[Loaded, Workspace]:
    """Like `load`, but a reference may also point at an object the target's workspace has.

    Opens the target's workspace and makes one round of list calls (reused by `plan_command`).
    The caller closes the workspace it gets back; on error it is closed here.
    """
    snapshot, chosen, workspace = open_online(repo, ref, target, env)
    try:
        loaded = load_listed(snapshot, chosen.name, workspace.list_objects())
    except BaseException:
        workspace.close()
        raise
    return loaded, workspace


def open_online(
    repo: Path, ref: str | None, target: str | None, env: Mapping[str, str],
) -> tuple[Snapshot, Target, Workspace]:
    """The repo's snapshot, the chosen target (as jobsync.yaml declares it) and its workspace,
    opened but not listed yet: apply takes the lock before its one listing round."""
    snapshot = read_snapshot(repo, ref)
    chosen = load_config(snapshot).target(target)
    return snapshot, chosen, open_workspace(chosen, snapshot.root, env)


def load_listed(snapshot: Snapshot, target: str, listing: Mapping[ObjectKey, ListEntry]) -> Loaded:
    """The repo loaded for `target`, references resolved against the repo and `listing`."""
    result = load_repo(snapshot, target, present=listing.keys())
    return Loaded(snapshot, result, result.target, listing)


def load_base(loaded: Loaded, rev: str) -> Loaded:
    """The repo at `rev` (`plan --base`), for the same target, references checked like `loaded`'s."""
    snapshot = read_snapshot(loaded.snapshot.root, rev)
    present = loaded.listing.keys() if loaded.listing is not None else None
    result = load_repo(snapshot, loaded.target.name, present=present)
    return Loaded(snapshot, result, result.target)


def package_size(items: Sequence[tuple[ObjectKey, Spec]]) -> int:
    """Upper bound of the import package for these items once secrets are filled in."""
    refs = sum(len(text.refs) for _, spec in items for _, text in secrets.iter_secrets(spec))
    jsonable = [(key, secrets.to_jsonable(spec)) for key, spec in items]
    return estimate_package_bytes(jsonable) + refs * SECRET_ALLOWANCE_BYTES


def plan_options(
    target: Target, *, refresh_secrets: bool = False, take: Take | None = None, prune: bool = False,
    allow_mass_delete: bool = False, same_name: SameName | None = None, force: bool = False,
) -> PlanOptions:
    """The user's choices plus what the target declares (scope, mass-delete share, same-name policy)."""
    return PlanOptions(refresh_secrets=refresh_secrets, take=take, prune=prune, scope=target.scope,
                       max_delete_share=target.max_delete_share, allow_mass_delete=allow_mass_delete,
                       same_name=same_name or SameName(target.same_name), force=force)


def secret_fingerprints(
    refs: set[secrets.SecretRef], resolver: secrets.SecretResolver, key: bytes,
) -> dict[str, str]:
    """HMAC of the current value of each reference that resolves (the others are skipped). No value kept."""
    out = {}
    for ref in sorted(refs, key=str):
        if resolver.missing({ref}):
            continue
        out[str(ref)] = secret_fingerprint(key, resolver.resolve(ref))
    return out


@dataclass(frozen=True)
class StateRead:
    """The target's state as read under the lock (`key`: where it is kept), handed from the plan to
    the apply so that one apply reads it once (issue 14). The write's own serial check and read-back
    (records.py, statestore.py) stay: this only spares the second read of the same document."""

    key: str
    state: State | None


def _state(workspace: Workspace, key: str, read: StateRead | None) -> State | None:
    return read.state if read is not None and read.key == key else workspace.read_state(key)


def plan_command(
    loaded: Loaded,
    workspace: Workspace,
    *,
    refresh_secrets: bool = False,
    options: PlanOptions | None = None,
    base: Loaded | None = None,
    resolver: secrets.SecretResolver | None = None,
    fingerprint_key: bytes | None = None,
    state_read: StateRead | None = None,
) -> Plan:
    """Compare the repo with the workspace (and the target's state): list calls, then only the reads needed.

    `base` (the repo at `--base REV`) adds which definitions this branch changes; `state_read`, the
    state read already under the lock. See `plan_definitions` for the rest.
    """
    return plan_definitions(
        loaded.result.desired, workspace, loaded.target, repo_rev=loaded.snapshot.rev,
        options=options or plan_options(loaded.target, refresh_secrets=refresh_secrets),
        base_rev=base.snapshot.rev if base is not None else None,
        branch=branch_changes(loaded.result.desired, base.result.desired) if base is not None else (),
        resolver=resolver, fingerprint_key=fingerprint_key, listing=loaded.listing, state_read=state_read,
    )


def plan_definitions(
    desired: Mapping[ObjectKey, Definition],
    workspace: Workspace,
    target: Target,
    *,
    repo_rev: str,
    options: PlanOptions,
    base_rev: str | None = None,
    branch: Sequence[ObjectKey] = (),
    resolver: secrets.SecretResolver | None = None,
    fingerprint_key: bytes | None = None,
    listing: Mapping[ObjectKey, ListEntry] | None = None,
    state_read: StateRead | None = None,
) -> Plan:
    """Plan `desired` against the target's workspace and state (read here unless `state_read` holds it).

    `listing` is the workspace's list round when the caller made it already (`load_online`).
    With a state, content is fetched only for objects whose list fingerprint moved or whose
    definition changed since the last apply (`keys_to_read`): a plan with nothing to do costs the
    list calls only. Only the target's scope is looked at: workspace objects outside it are not
    listed as unmanaged, and are read only when their list entry cannot tell (a directory scope
    and a backend whose listing carries no directory). With `fingerprint_key` and a `resolver`,
    secrets that resolve are fingerprinted (HMAC) to detect rotation; values are never kept.
    """
    listed = dict(listing) if listing is not None else workspace.list_objects()
    state = _state(workspace, state_key(target.name, target.scope), state_read)
    fingerprints = {k: e.updated for k, e in listed.items()}
    directories = {k: e.directory for k, e in listed.items() if e.directory is not None}
    hashes = definition_hashes(desired)
    wanted = keys_to_read(desired, fingerprints, state, options, hashes, directories)
    live = workspace.read({k: listed[k] for k in sorted(wanted)})
    hmacs: dict[str, str] = {}
    unchecked: list[str] = []
    if state is not None and resolver is not None and fingerprint_key:
        recorded = {ref for k, entry in state.objects.items() if k in desired for ref in entry.secrets}
        refs = {ref for d in desired.values() for ref in secrets.refs_in(d.spec) if str(ref) in recorded}
        hmacs = secret_fingerprints(refs, resolver, fingerprint_key)
        unchecked = sorted(str(ref) for ref in refs if str(ref) not in hmacs)
    plan = make_plan(
        desired,
        live,
        repo_rev=repo_rev,
        target=target.name,
        workspace=workspace.url,
        max_objects=target.max_objects,
        max_bytes=target.max_bytes,
        size_of=package_size,
        api_calls=dict(workspace.calls),
        listed=fingerprints,
        state=state,
        options=options,
        secret_fingerprints=hmacs,
        base_rev=base_rev,
        branch_changes=branch,
        target_settings={**target.settings, 'workspace': workspace.url},
        hashes=hashes,
        directories=directories,
    )
    if unchecked:
        note = (f'secret rotation not checked for {", ".join(unchecked)}: not resolvable here '
                '(set it, or its file, to compare its fingerprint with the one recorded at the last apply)')
        plan = dataclasses.replace(plan, notes=(*plan.notes, note))
    check_limits(plan, max_objects=target.max_objects, max_bytes=target.max_bytes, size_of=package_size)
    if not options.force:
        _refuse_pruning_used(plan, desired, live, workspace, listed)
    return plan


def _refuse_pruning_used(plan: Plan, desired: Mapping[ObjectKey, Definition], live: Mapping[ObjectKey, LiveObject],
                         workspace: Workspace, listed: Mapping[ObjectKey, ListEntry]) -> None:
    """`--prune` deletes nothing another workspace object still uses, as `delete` (inuse.py): what
    the plan leaves behind is git's definition where apply writes it, the live content elsewhere."""
    deleting = [c.key for c in plan.changes if c.action is Action.DELETE]
    if not deleting:
        return
    after = {k: o.spec for k, o in live.items()}
    after.update((k, d.spec) for k, d in desired.items() if k not in plan.skipped or k not in live)
    refuse_if_used(workspace, deleting, listing=listed, known=after)


def check_secrets(loaded: Loaded, resolver: secrets.SecretResolver) -> list[str]:
    """Problems resolving the repo's secret references for this target (references only, no values)."""
    users: dict[secrets.SecretRef, list[str]] = {}
    for key, definition in loaded.result.desired.items():
        for ref in secrets.refs_in(definition.spec):
            users.setdefault(ref, []).append(str(key))
    return [f'{ref}: {why} (used by {", ".join(sorted(users[ref]))})' for ref, why in resolver.check(set(users))]


def open_plan_target(plan: Plan, root: Path, env: Mapping[str, str], repo: Path | None = None) -> Workspace:
    """The workspace a saved plan was made for, from the plan alone (no repo needed; `local:` paths
    are relative to `root`); refused when `repo` holds the plan's revision and its jobsync.yaml
    names another workspace or endpoints."""
    if repo is not None:
        check_plan_config(plan, repo)
    settings = dict(plan.target_settings)
    target = Target(plan.target, workspace=plan.workspace, settings=settings)
    return open_workspace(target, root, env)


def check_plan_config(plan: Plan, repo: Path) -> None:
    """The plan's target against jobsync.yaml at the plan's revision, when that revision is at hand."""
    rev = plan.repo_rev.split('+', 1)[0]
    try:
        snapshot = read_snapshot(repo, rev) if rev not in ('worktree', NOT_IN_GIT, NO_COMMITS) else None
    except UsageError:  # not a git repo, or the revision is not in it
        snapshot = None
    if snapshot is not None:
        config = load_config(snapshot)
        target = config.targets.get(plan.target)
        check_target_config(plan, None if target is None else target.settings,
                            same_workspace=target is not None and _same_workspace(target.workspace, plan.workspace,
                                                                                  snapshot.root))


def _same_workspace(written: str, planned: str, root: Path) -> bool:
    """`local:PATH` (relative to the repo root) names the plan's file; `dataarts` is named by its settings."""
    if written.startswith('local:') and planned.startswith('local:'):
        path = Path(written.removeprefix('local:'))
        return (path if path.is_absolute() else root / path).resolve() == Path(planned.removeprefix('local:')).resolve()
    return written.split(':', 1)[0] == planned.split(':', 1)[0]


# --- the lock -----------------------------------------------------------------------------------

@dataclass
class Lease:
    """The lock this apply holds on its target, renewed before every batch."""

    workspace: Workspace
    lock: Lock
    ttl_ms: int

    def renew(self) -> None:
        self.lock = self.workspace.renew_lock(self.lock, self.ttl_ms)

    def release(self) -> None:
        self.workspace.release_lock(self.lock)


def acquire_lease(
    workspace: Workspace,
    target: str,
    *,
    owner: str,
    run_url: str = '',
    ttl_ms: int = DEFAULT_LOCK_TTL_MS,
    timeout_s: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    on_wait: Callable[[Lock], None] = lambda _: None,
) -> Lease:
    """Take the target's lock, waiting up to `timeout_s` while someone else holds it.

    Raises LockError naming the holder (owner, run URL, lock id, expiry) when the wait is over.
    `on_wait` is told once, when waiting starts.
    """
    start = monotonic()
    told = False
    while True:
        try:
            return Lease(workspace, workspace.acquire_lock(target, owner, run_url, ttl_ms), ttl_ms)
        except LockError as err:
            holder = err.holder
            waited = monotonic() - start
            if not isinstance(holder, Lock) or waited >= timeout_s:
                if isinstance(holder, Lock):
                    raise LockError(
                        f'{err.message}; gave up after waiting {waited:.0f}s (--lock-timeout {timeout_s:g}s)',
                        holder=holder,
                        hint=f'wait for that apply to finish (or raise --lock-timeout); if it died, free the '
                             f'lock with `jobsync force-unlock {holder.id} --target {target}`, or wait until the '
                             f'lease expires and it is taken over',
                    ) from None
                raise
            if not told:
                on_wait(holder)
                told = True
            sleep(min(LOCK_POLL_SECONDS, max(timeout_s - waited, 0.0)))


# --- apply --------------------------------------------------------------------------------------

def check_fresh(plan: Plan, workspace: Workspace) -> dict[ObjectKey, ListEntry]:
    """Refuse a saved plan if anything it would write changed in the workspace since (list calls
    only); the listing it made, which the apply reuses (statuses, fingerprints of what it leaves)."""
    listed = workspace.list_objects()
    stale = stale_changes(plan, {k: e.updated for k, e in listed.items()})
    if stale:
        names = '; '.join(f'{key} {why}' for key, why in stale)
        raise PlanError(
            f'the saved plan is stale: {len(stale)} planned object(s) changed since it was made: {names}; '
            'nothing was written',
            hint='run plan again, review it, and apply the new plan',
        )
    return listed


def check_not_applied(plan: Plan, state: State | None) -> None:
    """Refuse a saved plan the target's state says was applied already (like Terraform, which refuses a
    saved plan once the state moved on: exit 1, nothing written), saying so rather than "stale"."""
    if state is None or not plan.writes or state.plan_digest != plan_digest(plan):
        return
    when = format_ms(state.updated_at) if state.updated_at else 'earlier'
    raise PlanError(
        f'this saved plan was already applied to target {plan.target} (state serial {state.serial}, {when}); '
        'nothing was written',
        hint='run plan again to see whether anything is left to do',
    )


@dataclass(frozen=True)
class Applied:
    result: ApplyResult
    state: State | None  # the state written; None when nothing needed recording

    @property
    def ok(self) -> bool:
        return self.result.ok


def apply_command(
    plan: Plan,
    workspace: Workspace,
    resolver: secrets.SecretResolver,
    on_event: OnEvent,
    *,
    lease: Lease | None = None,
    fingerprint_key: bytes | None = None,
    clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    listing: Mapping[ObjectKey, ListEntry] | None = None,
    state_read: StateRead | None = None,
) -> Applied:
    """Execute the plan, then record the target's state with the fingerprints the service set.

    Expects the caller to hold `lease` (renewed before each batch). A plan without writes still
    records the state when it would change (a first apply to a workspace already in sync).
    `listing` is the round listed under the lock that the plan was checked against: its job
    statuses are used (no status call per updated job) and, after the writes, only the objects
    written are read back (`Workspace.read_back`) instead of listing everything again.
    `state_read` is the state the plan was checked against, read under the same lock (else read here).
    """
    check_no_conflicts(plan)
    key = plan_state_key(plan)
    old = _state(workspace, key, state_read)

    def macs(refs: set[secrets.SecretRef]) -> dict[str, str]:
        return secret_fingerprints(refs, resolver, fingerprint_key) if fingerprint_key else {}

    journal = Journal(plan, workspace, key, old, macs=macs, clock=clock, listing=listing,
                      renew=lease.renew if lease is not None else lambda: None)
    if plan.writes:
        statuses = {k: e.status for k, e in listing.items() if e.status} if listing is not None else None
        try:
            result = apply_plan(plan, workspace, resolver=resolver, on_event=on_event,
                                before_batch=journal.checkpoint, statuses=statuses)
        except ApplyInterrupted as stop:
            # The call in flight was finished or abandoned: record what went through, and the
            # batch it stopped in as pending (journal.py), before the lock is released.
            journal.finish(stop.result, plan_digest='', pending=journal.coming)
            raise
    else:
        result = ApplyResult(())
    return Applied(result, journal.finish(result, plan_digest=plan_digest(plan)))


def apply_saved_plan(
    plan: Plan,
    workspace: Workspace,
    resolver: secrets.SecretResolver,
    on_event: OnEvent,
    *,
    lease: Lease | None = None,
    fingerprint_key: bytes | None = None,
    clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
) -> Applied:
    """`apply plan.json`: refuse conflicts and stale plans before any write, then execute exactly the plan."""
    check_no_conflicts(plan)
    read = StateRead(plan_state_key(plan), workspace.read_state(plan_state_key(plan)))  # once, under the lock
    check_not_applied(plan, read.state)
    listing = check_fresh(plan, workspace)  # the one listing round of a saved plan's apply
    return apply_command(plan, workspace, resolver, on_event, lease=lease, fingerprint_key=fingerprint_key,
                         clock=clock, listing=listing, state_read=read)


def read_plan(text: str, *, where: str, key: str | None = None) -> Plan:
    """A saved plan, checked against schemas/plan.schema.json; unknown format versions are refused first,
    then a plan edited after it was written (its integrity digest, made with `key`: JOBSYNC_PLAN_KEY)."""
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise PlanError(f'{where} is not a jobsync plan file: {err}',
                        hint='pass the file written by `jobsync plan --out`') from None
    if not (isinstance(doc, dict) and 'format_version' in doc):
        raise PlanError(f'{where} is not a jobsync plan file: it has no format_version',
                        hint='pass the file written by `jobsync plan --out`')
    if doc.get('format_version') == FORMAT_VERSION:
        plan_verify(text, key, where=where)
        problems = schema.validate('plan', doc)
        if problems:
            listed = '; '.join(f'{p.pointer or "/"}: {p.message}' for p in problems[:5])
            raise PlanError(f'{where} is not a valid jobsync plan: {listed}',
                            hint='pass the file written by `jobsync plan --out`, unedited')
    return plan_from_json(text)


def plan_state_key(plan: Plan) -> str:
    """Where the state and lock of the plan's target are kept (its name, plus its scope's digest)."""
    return state_key(plan.target, parse_scope(plan.target_settings.get('scope')))


def check_plan_target(plan: Plan, target: str | None) -> None:
    """Refuse a saved plan made for another target than the one asked for."""
    if target is not None and target != plan.target:
        raise PlanError(f'the plan was made for target {plan.target!r}, not {target!r}; nothing was written',
                        hint=f'apply it with --target {plan.target}, or plan again for {target}')
