"""Execute a plan: batches in order, secrets filled per object, every object accounted for.

Apply never re-decides what the plan says. It gets everything it touches as arguments and
reports progress through `on_event`, never by printing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from jobsync import secrets
from jobsync.errors import ImportRefused, JobsyncError, PlanError, SecretError, WorkspaceError
from jobsync.events import Event, EventKind, OnEvent, Outcome, Results, Status, ignore
from jobsync.kinds import RUNNING_STATES
from jobsync.model import ObjectKey, Spec
from jobsync.plan import Action, Change, Plan
from jobsync.state import ObjectState, State, content_hash, empty_state, live_hash
from jobsync.workspace.base import Workspace

# One outcome and event type for apply and the console operations (jobsync.events).
ApplyResult = Results


class ApplyInterrupted(KeyboardInterrupt):
    """The apply was interrupted (SIGINT, SIGTERM, SIGHUP) between or during writes: `result`
    holds the outcomes so far, so the caller can record the state of what was written."""

    def __init__(self, result: ApplyResult) -> None:
        super().__init__()
        self.result = result


def check_secrets(plan: Plan, resolver: secrets.SecretResolver) -> None:
    """Stop before any write if a reference cannot be used: missing, unreadable, or too short
    (each is resolved once, the value dropped at once). Names references, never values."""
    refs = {ref for c in plan.actionable for ref in secrets.refs_in(c.desired)}
    problems = resolver.check(refs)
    if problems:
        failing = {ref for ref, _ in problems}
        users = sorted({str(c.key) for c in plan.actionable for _, t in secrets.iter_secrets(c.desired)
                        if any(r in failing for r in t.refs)})
        raise SecretError(
            f'{len(problems)} secret reference(s) cannot be used: {"; ".join(why for _, why in problems)} '
            f'(used by {", ".join(users)}); nothing was written',
            hint='set the environment variables (or secret files) before apply, each value at least '
                 f'{secrets.MIN_SECRET_LENGTH} characters; plan needs none of them',
        )


def check_no_conflicts(plan: Plan, *, planning: bool = False) -> None:
    """Refuse, before any write, a plan holding conflicts; names them. `planning`: say so for plan."""
    conflicts = plan.conflicts
    if conflicts:
        names = ', '.join(str(c.key) for c in conflicts)
        outcome = 'apply would refuse this plan' if planning else 'nothing was written'
        raise PlanError(
            f'{len(conflicts)} conflict(s): changed both in git and in the workspace since the last apply: {names}; '
            f'{outcome}',
            hint='plan again with --take git (git overwrites the workspace) or --take live (keep the workspace, '
                 'then `jobsync export` it into git)',
        )


def apply_plan(
    plan: Plan,
    workspace: Workspace,
    *,
    resolver: secrets.SecretResolver,
    on_event: OnEvent = ignore,
    before_batch: Callable[[Sequence[ObjectKey], ApplyResult], None] = lambda keys, done: None,
    statuses: Mapping[ObjectKey, str] | None = None,
) -> ApplyResult:
    """Run the plan's batches in order and return an outcome for every write it plans.

    Exports and conflicts are never written (a plan with conflicts is refused first). `before_batch`
    runs before each batch with its keys and the outcomes so far (apply renews its lease on the
    target and records the state there: journal.py). `statuses`: job statuses from the listing
    taken under the lock (a job missing there is asked for its status).
    """
    check_no_conflicts(plan)
    check_secrets(plan, resolver)
    changes = {c.key: c for c in plan.actionable}
    outcomes: dict[ObjectKey, Outcome] = {}
    scrub = resolver.redactor.scrub

    def record(outcome: Outcome) -> None:
        outcomes[outcome.key] = outcome
        on_event(Event(EventKind.OUTCOME, outcome.key, outcome=outcome, message=outcome.message))

    try:
        _run_batches(plan, workspace, changes, outcomes, record, scrub, resolver, on_event, before_batch,
                     statuses or {})
    except KeyboardInterrupt:
        # The current call was finished or abandoned; what went through is recorded by the caller.
        raise ApplyInterrupted(ApplyResult(tuple(outcomes[k] for k in sorted(outcomes)))) from None
    return ApplyResult(tuple(outcomes[k] for k in sorted(outcomes)))


def _run_batches(
    plan: Plan, workspace: Workspace, changes: dict[ObjectKey, Change], outcomes: dict[ObjectKey, Outcome],
    record: Callable[[Outcome], None], scrub: Callable[[str], str], resolver: secrets.SecretResolver,
    on_event: OnEvent, before_batch: Callable[[Sequence[ObjectKey], ApplyResult], None],
    statuses: Mapping[ObjectKey, str],
) -> None:
    for number, batch in enumerate(plan.batches, 1):
        before_batch(batch, ApplyResult(tuple(outcomes[k] for k in sorted(outcomes))))
        on_event(Event(EventKind.BATCH, batch=(number, len(plan.batches)),
                       message=f'{len(batch)} object(s), {batch[0].kind}'))
        ready: list[Change] = []
        for key in batch:
            change = changes[key]
            blocked = [k for k in change.requires if k in outcomes and outcomes[k].status is not Status.APPLIED]
            if blocked:
                status = outcomes[blocked[0]].status.value
                why = (f'still used by {blocked[0]}, whose deletion was {status}' if change.action is Action.DELETE
                       else f'depends on {blocked[0]}, which was {status}')
                record(Outcome(key, change.action.value, Status.SKIPPED, why))
            else:
                ready.append(change)
        deletes = [c for c in ready if c.action is Action.DELETE]
        upserts = [c for c in ready if c.action is not Action.DELETE]
        for c in deletes:
            try:
                workspace.delete(c.key)
                record(Outcome(c.key, c.action.value, Status.APPLIED))
            except WorkspaceError as err:
                record(Outcome(c.key, c.action.value, Status.FAILED, scrub(str(err))))
        if upserts:
            for outcome in _upsert_batch(upserts, workspace, resolver, on_event, statuses):
                record(outcome)


def _upsert_batch(
    changes: Sequence[Change],
    workspace: Workspace,
    resolver: secrets.SecretResolver,
    on_event: OnEvent,
    statuses: Mapping[ObjectKey, str],
) -> list[Outcome]:
    scrub = resolver.redactor.scrub
    # The service refuses to overwrite a running job: stop it, write, and restore its schedule state.
    stopped: list[ObjectKey] = []
    for c in changes:
        # A running CDM job is the client's to handle: wait, refuse or stop, never restart (cdmruns.py).
        if c.action is Action.UPDATE and c.key.kind == 'job':
            try:
                status = statuses.get(c.key) or workspace.job_status(c.key)
                if status in RUNNING_STATES:
                    workspace.stop_job(c.key)
                    stopped.append(c.key)
                    on_event(Event(EventKind.NOTE, c.key, message='stopped before overwriting it; it will be '
                                                                  'restarted'))
            except WorkspaceError as err:
                on_event(Event(EventKind.NOTE, c.key, message=f'could not stop it: {scrub(str(err))}'))
    outcomes: list[Outcome] = []
    items: list[tuple[Change, Spec]] = []
    for c in changes:
        try:
            items.append((c, secrets.fill_secrets(c.desired, resolver)))
        except SecretError as err:
            outcomes.append(Outcome(c.key, c.action.value, Status.FAILED, scrub(err.message)))
    outcomes.extend(_import(items, workspace, scrub, on_event))
    del items  # resolved values live no longer than the write
    failed = {o.key for o in outcomes if o.status is not Status.APPLIED}
    for key in stopped:
        try:
            workspace.start_job(key)
            on_event(Event(EventKind.NOTE, key, message='restarted'))
        except WorkspaceError as err:
            if key not in failed:
                outcomes = [o if o.key != key else Outcome(
                    key, o.action, Status.FAILED, f'written, but restarting its schedule failed: {scrub(str(err))}')
                    for o in outcomes]
    return outcomes


def _import(
    items: Sequence[tuple[Change, Spec]], workspace: Workspace, scrub: Callable[[str], str],
    on_event: OnEvent = ignore,
) -> list[Outcome]:
    """Import one package; if it is refused, retry object by object to find who failed."""
    if not items:
        return []
    try:
        # Each object as it goes through, for the progress display (the outcomes come after the package).
        workspace.import_objects([(c.key, spec) for c, spec in items],
                                 on_written=lambda key: on_event(Event(EventKind.WRITTEN, key, message='written')))
        return [Outcome(c.key, c.action.value, Status.APPLIED) for c, _ in items]
    except ImportRefused as err:
        if err.written is not None:
            # Written object by object (not all or nothing): each has its own outcome already.
            return [Outcome(c.key, c.action.value, Status.APPLIED) if str(c.key) in err.written
                    else Outcome(c.key, c.action.value, Status.FAILED, scrub(err.reasons.get(str(c.key), str(err))))
                    for c, _ in items]
        if len(items) == 1:
            c = items[0][0]
            return [Outcome(c.key, c.action.value, Status.FAILED, scrub(err.reasons.get(str(c.key), str(err))))]
    except JobsyncError as err:
        if len(items) == 1:
            c = items[0][0]
            return [Outcome(c.key, c.action.value, Status.FAILED, scrub(str(err)))]
    # The package was refused whole (all or nothing): isolate the objects that caused it.
    outcomes: list[Outcome] = []
    for item in items:
        outcomes.extend(_import([item], workspace, scrub, on_event))
    return outcomes


def recorded_state(
    old: State | None,
    plan: Plan,
    result: ApplyResult,
    listed_after: Mapping[ObjectKey, int],
    secret_fingerprints: Mapping[str, str],
    *,
    now: int,
    kept_as: str | None = None,
) -> State:
    """The target's state after this apply (pure): what to remember of each object for the next plan.

    Applied creates and updates record the definition's hashes, the git rev and the fingerprint
    the workspace shows now (`listed_after`, from list calls after the writes: the service sets
    `lastUpdateTime`); applied deletions are forgotten; unchanged objects still as planned are
    recorded too (so a first apply against a workspace already in sync starts managing them);
    a no-op the state recorded already carries no definition (plan.py) and keeps its entry.
    Failed and skipped objects, conflicts and exports keep what the state said. Objects gone from
    both git and the workspace are forgotten. `secret_fingerprints` holds the HMAC of each secret
    reference's value as sent (empty without JOBSYNC_FINGERPRINT_KEY). `kept_as` is where the state
    is kept (`state.state_key`; the plan's target name by default).
    """
    base = old if old is not None else empty_state(kept_as or plan.target)
    objects: dict[ObjectKey, ObjectState] = dict(base.objects)
    outcomes = {o.key: o for o in result.outcomes}
    defined = set()
    for c in plan.changes:
        if c.desired is not None or c.action is Action.NOOP:  # a no-op's definition is in git, carried or not
            defined.add(c.key)
        outcome = outcomes.get(c.key)
        applied = outcome is not None and outcome.status is Status.APPLIED
        if c.action is Action.DELETE and applied:
            objects.pop(c.key, None)
            continue
        if c.desired is None or c.key not in listed_after:
            continue
        sent = (c.action in (Action.CREATE, Action.UPDATE) and applied)
        still = c.action is Action.NOOP and listed_after[c.key] == c.live_updated
        if not (sent or still):
            continue
        previous = objects.get(c.key)
        digest = content_hash(c.key.kind, c.desired)
        if sent:
            refs = sorted({str(r) for r in secrets.refs_in(c.desired)})
            macs = {r: secret_fingerprints[r] for r in refs if r in secret_fingerprints}
            rev = plan.repo_rev
        else:  # unchanged: keep what was known of its secrets and where it came from
            macs = dict(previous.secrets) if previous is not None else {}
            rev = previous.git_rev if previous is not None and previous.content_hash == digest else plan.repo_rev
        objects[c.key] = ObjectState(listed_after[c.key], digest, live_hash(c.key.kind, c.desired), rev, macs)
    for key in list(objects):
        if key not in defined and key not in listed_after:
            del objects[key]
    return State(base.target, base.serial + 1, dict(sorted(objects.items())), now, plan.repo_rev)
