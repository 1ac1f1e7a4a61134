"""The console's batch operations over a workspace: run, stop, delete, CDM groups.

Everything it touches comes in as arguments: the workspace, and for waiting a `sleep` function
and a `clock`, so tests drive time instead of waiting for it. Progress goes out through
`on_event`, never by printing.

What "run" means per kind (reference §4.5, §9.4):

* a Factory job is *started*: its schedule begins (`SCHEDULING` for batch jobs, `NORMAL` for
  real-time ones), as the console's batch "Start" does. Waiting follows it until it is scheduling
  or running (success) or in `EXCEPTION` (failure). Starting a job that already runs is not an
  error (the service answers `DLF.3051 ... is running`, reference §4.5).
* a Factory job run *once* (`run_once`; `run --once`, and by default a batch job scheduled
  `EXECUTE_ONCE`, which has no schedule to start) gets one instance now (`run-immediate`, reference
  §4.5) and keeps its schedule as it is. Waiting follows that instance to a terminal status:
  `success`, `forceSuccess`, `ignoreSuccess`, `skip-by-depend` (success), or `fail`,
  `running-exception`, `manual-stop` (failure).
* a CDM job is *submitted*: waiting follows the submission through `BOOTING` and `RUNNING` to
  `SUCCEEDED` (success) or `FAILED` / `FAILURE_ON_SUBMIT` / `UNKNOWN` (failure). A CDM job that
  already runs (`Cdm.0052`) is followed, not started twice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from jobsync.errors import UsageError, WorkspaceError
from jobsync.events import Event, EventKind, OnEvent, Outcome, Results, Status
from jobsync.events import ignore as _ignore
from jobsync.kinds import CDM_SUBMISSION, JOB_INSTANCE, JOB_SCHEDULE, cdm_group
from jobsync.model import APPLY_ORDER, LiveObject, ObjectKey, Spec
from jobsync.refs import references
from jobsync.selection import JOB_KINDS, name_matches
from jobsync.workspace.base import Workspace

DEFAULT_INTERVAL = 5.0  # seconds between status polls
DEFAULT_TIMEOUT = 3600.0  # seconds --wait follows jobs before giving up on them


# One outcome and event type for apply and the console operations (jobsync.events).
OpsResult = Results


# --- choosing what to act on -------------------------------------------------------------------

def resolve(
    keys: Iterable[ObjectKey],
    names: Sequence[str],
    *,
    kinds: frozenset[str] = JOB_KINDS,
    clusters: Sequence[str] = (),
) -> list[ObjectKey]:
    """The objects `names` address among `keys`: job names, or object keys (`cdm-job/c/x`, `script/s`).

    A bare name must mean exactly one job; raises UsageError for unknown or ambiguous names, and
    for keys of kinds outside `kinds`.
    """
    pool = [k for k in keys if not (clusters and k.cluster and k.cluster not in clusters)]
    out: list[ObjectKey] = []
    problems: list[str] = []
    for name in names:
        found = [k for k in pool if name_matches(name, k)]
        if not found:
            problems.append(f'{name}: not in the workspace')
        elif len(found) > 1:
            problems.append(f'{name}: ambiguous, it names {", ".join(map(str, found))}; give the key instead')
        elif found[0].kind not in kinds:
            problems.append(f'{name}: a {found[0].kind} cannot be acted on here')
        else:
            out.append(found[0])
    if problems:
        raise UsageError('; '.join(problems), hint='name jobs as listed by the console, or by key '
                                                   '(job/NAME, cdm-job/CLUSTER/NAME)')
    return sorted(set(out))


def group_members(
    cdm_jobs: Mapping[ObjectKey, LiveObject], groups: Sequence[str], clusters: Sequence[str] = (),
) -> list[ObjectKey]:
    """The CDM jobs of `groups` (in `clusters`, when given). Raises UsageError for a group with no job."""
    out: list[ObjectKey] = []
    empty = []
    for group in groups:
        members = [k for k, o in cdm_jobs.items() if k.kind == 'cdm-job' and cdm_group(o.spec) == group
                   and (not clusters or k.cluster in clusters)]
        if not members:
            empty.append(group)
        out.extend(members)
    if empty:
        raise UsageError(f'no CDM job in group {", ".join(empty)}' + (f' (clusters {", ".join(clusters)})'
                                                                       if clusters else ''),
                         hint='`jobsync groups` lists the groups and their jobs')
    return sorted(set(out))


def cdm_groups(cdm_jobs: Mapping[ObjectKey, LiveObject]) -> dict[tuple[str, str], list[ObjectKey]]:
    """(cluster, group) -> its CDM jobs, sorted; a job without a group is in `DEFAULT`."""
    out: dict[tuple[str, str], list[ObjectKey]] = {}
    for key, obj in sorted(cdm_jobs.items()):
        if key.kind == 'cdm-job':
            out.setdefault((key.cluster, cdm_group(obj.spec)), []).append(key)
    return dict(sorted(out.items()))


def _done(key: ObjectKey, action: str, ok: bool | None, state: str, message: str = '') -> Outcome:
    """An outcome: ok (applied), not ok (failed), or None (skipped); `state` is the word for what happened."""
    status = Status.SKIPPED if ok is None else Status.APPLIED if ok else Status.FAILED
    return Outcome(key, action, status, message, state)


def _ended(key: ObjectKey, action: str, ok: bool | None, state: str, message: str, on_event: OnEvent) -> Outcome:
    """An outcome that is final, reported through `on_event` as it happens."""
    outcome = _done(key, action, ok, state, message)
    on_event(Event(EventKind.OUTCOME, key, outcome=outcome, message=message))
    return outcome


# --- run and stop -------------------------------------------------------------------------------

def _already_running(key: ObjectKey, err: WorkspaceError) -> bool:
    if key.kind == 'cdm-job':
        return err.code == 'Cdm.0052'
    return err.code == 'DLF.3051' and 'is running' in err.message


def runs_once_by_default(key: ObjectKey, spec: Spec) -> bool:
    """A batch Factory job scheduled `EXECUTE_ONCE`: it has no schedule to start (the service
    refuses with `DLF.3051`, reference §4.5), so running it can only mean running it once."""
    schedule = spec.get('schedule')
    return (key.kind == 'job' and spec.get('processType', 'BATCH') != 'REAL_TIME'
            and isinstance(schedule, Mapping) and schedule.get('type') == 'EXECUTE_ONCE')


def instance_settled(status: str) -> bool | None:
    """A Factory job instance's status: True: succeeded; False: failed; None: still going (reference §4.5)."""
    return JOB_INSTANCE.settled(status)


def _settled(key: ObjectKey, status: str, instance: bool = False) -> bool | None:
    """True: succeeded; False: failed; None: still going. `instance`: a job instance's status."""
    if instance:
        return instance_settled(status)
    return (CDM_SUBMISSION if key.kind == 'cdm-job' else JOB_SCHEDULE).settled(status)


def start_jobs(
    workspace: Workspace, keys: Sequence[ObjectKey], *, once: Collection[ObjectKey] = frozenset(),
    on_event: OnEvent = _ignore,
) -> tuple[dict[ObjectKey, Outcome], dict[ObjectKey, str]]:
    """Start each job, or run once those in `once` (Factory jobs). An outcome per job (ok: started,
    already running, or an instance made), and the instance id of each job run once."""
    out: dict[ObjectKey, Outcome] = {}
    instances: dict[ObjectKey, str] = {}
    for key in keys:
        if key in once and key.kind == 'job':
            try:
                instances[key] = workspace.run_once(key)
            except WorkspaceError as err:
                out[key] = _ended(key, 'run', False, 'not run', str(err), on_event)
                continue
            out[key] = _done(key, 'run', True, 'started', f'instance {instances[key]}')
            on_event(Event(EventKind.STATUS, key, message=f'running once: instance {instances[key]}'))
            continue
        try:
            workspace.start_job(key)
            out[key] = _done(key, 'run', True, 'started')
            on_event(Event(EventKind.STATUS, key, message='started'))
        except WorkspaceError as err:
            if _already_running(key, err):
                out[key] = _done(key, 'run', True, 'running', 'was already running')
                on_event(Event(EventKind.STATUS, key, message='already running'))
            else:
                out[key] = _ended(key, 'run', False, 'not started', str(err), on_event)
    return out, instances


def wait_for(
    workspace: Workspace,
    keys: Sequence[ObjectKey],
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    interval: float = DEFAULT_INTERVAL,
    timeout: float = DEFAULT_TIMEOUT,
    instances: Mapping[ObjectKey, str] | None = None,
    on_event: OnEvent = _ignore,
) -> dict[ObjectKey, Outcome]:
    """Poll each job's status until it settles (see the module docstring) or `timeout` seconds pass.

    A job in `instances` is followed through that instance's status, not its schedule's; its
    outcome's message names the instance. Each status change is reported once through
    `on_event`. A job still going at the deadline fails with `timed out`.
    """
    instances = instances or {}
    deadline = clock() + timeout
    pending = list(keys)
    seen: dict[ObjectKey, str] = {}
    out: dict[ObjectKey, Outcome] = {}
    while pending:
        for key in list(pending):
            instance = instances.get(key)
            try:
                status = (workspace.job_status(key) if instance is None
                          else workspace.instance_status(key, instance))
            except WorkspaceError as err:
                out[key] = _ended(key, 'run', False, 'unknown', f'cannot read its status: {err}', on_event)
                pending.remove(key)
                continue
            if seen.get(key) != status:
                seen[key] = status
                on_event(Event(EventKind.STATUS, key, message=status))
            settled = _settled(key, status, instance is not None)
            if settled is not None:
                out[key] = _done(key, 'run', settled, status, _instance_note(instance))
                pending.remove(key)
        if not pending:
            break
        if clock() >= deadline:
            for key in pending:
                note = _instance_note(instances.get(key))
                out[key] = _ended(key, 'run', False, seen.get(key, 'unknown'),
                                  f'timed out after {timeout:g}s, still {seen.get(key, "unknown")}'
                                  + (f' ({note})' if note else ''), on_event)
            break
        sleep(interval)
    return out


def _instance_note(instance: str | None) -> str:
    return '' if instance is None else f'instance {instance}'


def run_jobs(
    workspace: Workspace,
    keys: Sequence[ObjectKey],
    *,
    wait: bool = False,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    interval: float = DEFAULT_INTERVAL,
    timeout: float = DEFAULT_TIMEOUT,
    once: Collection[ObjectKey] = frozenset(),
    on_event: OnEvent = _ignore,
) -> OpsResult:
    """Start every job (run once the Factory jobs in `once`), then (with `wait`) follow them all to
    the end. One outcome per job, in key order."""
    started, instances = start_jobs(workspace, keys, once=once, on_event=on_event)
    if wait:
        going = [k for k in keys if started[k].ok]
        started.update(wait_for(workspace, going, sleep=sleep, clock=clock, interval=interval, timeout=timeout,
                                instances=instances, on_event=on_event))
    return OpsResult(tuple(started[k] for k in sorted(started)))


def stop_jobs(workspace: Workspace, keys: Sequence[ObjectKey], *, on_event: OnEvent = _ignore) -> OpsResult:
    """Stop each job (a Factory job's schedule; a CDM job's running submission). Not running is fine."""
    out = []
    for key in sorted(keys):
        try:
            workspace.stop_job(key)
            out.append(_ended(key, 'stop', True, 'stopped', '', on_event))
        except WorkspaceError as err:
            if key.kind == 'cdm-job' and err.code == 'Cdm.0053':
                out.append(_ended(key, 'stop', True, 'not running', '', on_event))
            else:
                out.append(_ended(key, 'stop', False, 'not stopped', str(err), on_event))
    return OpsResult(tuple(out))


# --- delete -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeletePlan:
    """What `delete` (or `groups delete`) will delete, in order, and which of those git still defines."""

    workspace: str
    what: str  # 'named', 'with the groups', 'group nightly'
    specs: Mapping[ObjectKey, Spec]
    order: tuple[ObjectKey, ...]
    defined_in_git: Mapping[ObjectKey, str]  # key -> file or source label
    # Chosen but set aside (a name no file can carry, issue 12): reported, never addressed.
    skipped: tuple[Outcome, ...] = ()
    # Possible users not checked for use of what is deleted, for the same reason.
    unchecked: tuple[ObjectKey, ...] = ()


def users_left(live: Mapping[ObjectKey, Spec], deleting: Collection[ObjectKey]) -> dict[ObjectKey, list[ObjectKey]]:
    """Objects in `deleting` that an object of `live` not being deleted still references -> those users.

    `live` holds the specs of the workspace objects that might refer to them; users deleted in the
    same run do not count (they go first).
    """
    chosen = set(deleting)
    out: dict[ObjectKey, set[ObjectKey]] = {}
    for key, spec in live.items():
        if key in chosen:
            continue
        for ref in references(key, spec):
            if ref.target in chosen and ref.target != key:
                out.setdefault(ref.target, set()).add(key)
    return {k: sorted(v) for k, v in sorted(out.items())}


def still_used_error(used: Mapping[ObjectKey, Sequence[ObjectKey]], *, flag: str) -> UsageError:
    """The refusal to delete what others still use, naming each object and its users."""
    names = '; '.join(f'{k} is used by {", ".join(map(str, users))}' for k, users in used.items())
    return UsageError(f'refusing to delete objects other workspace objects still use: {names}; nothing was deleted',
                      hint=f'delete the users in the same run, change them first, or pass {flag} to delete anyway')


def deletion_order(specs: Mapping[ObjectKey, Spec]) -> list[ObjectKey]:
    """Users before what they use: reverse apply order by kind, and among the objects given, a
    referring object before the one it references (a job before its upstream `dependJobs` job)."""
    rank = {kind: i for i, kind in enumerate(APPLY_ORDER)}
    uses = {k: {r.target for r in references(k, s)} & set(specs) - {k} for k, s in specs.items()}
    done: list[ObjectKey] = []
    placed: set[ObjectKey] = set()

    def place(key: ObjectKey, stack: frozenset[ObjectKey]) -> None:
        # Depth-first: everything that uses `key` is placed before it.
        if key in placed:
            return
        for user in sorted(k for k, used in uses.items() if key in used and k not in stack):
            place(user, stack | {key})
        if key not in placed:
            placed.add(key)
            done.append(key)

    for key in sorted(specs, key=lambda k: (-rank[k.kind], k.cluster, k.name)):
        place(key, frozenset())
    return done


def delete_objects(
    workspace: Workspace, specs: Mapping[ObjectKey, Spec], *, on_event: OnEvent = _ignore,
) -> OpsResult:
    """Delete the objects (live specs, for their references) in `deletion_order`.

    When one cannot be deleted, what it uses among the rest is skipped (still in use), not deleted.
    """
    uses = {k: {r.target for r in references(k, s)} & set(specs) - {k} for k, s in specs.items()}
    blocked: dict[ObjectKey, ObjectKey] = {}
    out: list[Outcome] = []
    for key in deletion_order(specs):
        if key in blocked:
            out.append(_ended(key, 'delete', None, 'skipped', f'still used by {blocked[key]}, which was not deleted',
                              on_event))
            _block(key, blocked[key], uses, blocked)
            continue
        try:
            workspace.delete(key)
            out.append(_ended(key, 'delete', True, 'deleted', '', on_event))
        except WorkspaceError as err:
            if err.not_found:
                out.append(_ended(key, 'delete', True, 'gone', 'was already deleted', on_event))
                continue
            out.append(_ended(key, 'delete', False, 'not deleted', str(err), on_event))
            _block(key, key, uses, blocked)
    return OpsResult(tuple(out))


def _block(key: ObjectKey, cause: ObjectKey, uses: Mapping[ObjectKey, set[ObjectKey]],
           blocked: dict[ObjectKey, ObjectKey]) -> None:
    for used in uses.get(key, ()):
        blocked.setdefault(used, cause)
