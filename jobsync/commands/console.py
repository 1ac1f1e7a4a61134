"""The console's batch operations as commands: run, stop, delete, CDM groups, and force-unlock.

Each opens the target's workspace from jobsync.yaml alone (the definitions need not be valid),
chooses the objects, acts through `jobsync.ops`, and returns the result. Nothing is printed:
progress goes out through `on_event`, the CLI renders the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from jobsync import gitrepo, ops, unfit
from jobsync.commands.inuse import refuse_if_used
from jobsync.config import Target
from jobsync.errors import UsageError
from jobsync.events import OnEvent, Outcome, Status, ignore
from jobsync.load import load_config
from jobsync.model import ObjectKey, Spec
from jobsync.ops import DeletePlan
from jobsync.remap import remap_key
from jobsync.scope import in_scope
from jobsync.selection import JOB_KINDS
from jobsync.state import Lock
from jobsync.workspace.base import Workspace
from jobsync.workspace.connect import open_workspace

DELETABLE = frozenset({'job', 'cdm-job', 'script', 'resource', 'connection', 'cdm-link'})


@dataclass(frozen=True)
class Opened:
    """A target's workspace, opened from jobsync.yaml at the repo's working tree."""

    workspace: Workspace
    snapshot: gitrepo.Snapshot
    target: Target


@contextmanager
def open_target(repo: Path, target: str | None, env: Mapping[str, str]) -> Iterator[Opened]:
    """The target's workspace (jobsync.yaml only is read: the definitions need not be valid); closed on exit."""
    snapshot = gitrepo.read_snapshot(repo)
    the_target = load_config(snapshot).target(target)
    workspace = open_workspace(the_target, snapshot.root, env)
    try:
        yield Opened(workspace, snapshot, the_target)
    finally:
        workspace.close()


@dataclass(frozen=True)
class Selection:
    """What the command line names: jobs or keys, CDM groups, and the clusters to look in."""

    names: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()


def select(
    opened: Opened, chosen: Selection, *, kinds: frozenset[str] = JOB_KINDS,
) -> tuple[dict[ObjectKey, Spec], tuple[Outcome, ...]]:
    """The objects named or in the groups, with their live specs (for references and groups), and
    the outcomes of those set aside unread because their names cannot be file names (issue 12:
    they are that object's problem; the command goes on with the others).

    Only objects inside the target's scope: a named object outside it is refused, a group's
    jobs outside it are left out (another team owns them).
    """
    workspace, the_target = opened.workspace, opened.target
    if not chosen.names and not chosen.groups:
        raise UsageError('name the jobs to act on, or a --group', hint='e.g. `jobsync run daily_sales` or '
                                                                        '`jobsync run --group nightly --wait`')
    listed = workspace.list_objects()
    entries, unfit_entries = unfit.split(listed)
    named = set(ops.resolve(listed, chosen.names, kinds=kinds, clusters=chosen.clusters))
    set_aside = [s for s in unfit_entries if s.key in named]
    named -= {s.key for s in set_aside}
    grouped: set[ObjectKey] = set()
    if chosen.groups:
        # CDM jobs come from the cluster listings (no call addresses them by name), so even one
        # set aside is read here: a group's member is named, not silently left out.
        cdm = workspace.read({k: e for k, e in listed.items() if k.kind == 'cdm-job'})
        grouped = {k for k in ops.group_members(cdm, chosen.groups, chosen.clusters)
                   if in_scope(k, cdm[k].spec, the_target.scope)}
        set_aside += [s for s in unfit_entries if s.key in grouped and s not in set_aside]
        grouped -= {s.key for s in set_aside}
        if not grouped and not set_aside:
            raise UsageError(f'no CDM job of group {", ".join(chosen.groups)} is inside the scope of target '
                             f'{the_target.name} ({the_target.scope.describe()})')
    specs = {k: o.spec for k, o in workspace.read({k: entries[k] for k in sorted(named | grouped)}).items()}
    outside = sorted(k for k in named if k in specs and not in_scope(k, specs[k], the_target.scope))
    if outside:
        raise UsageError(f'outside the scope of target {the_target.name} ({the_target.scope.describe()}): '
                         f'{", ".join(map(str, outside))}', hint='act on it with the target that owns it')
    return specs, tuple(_set_aside(s) for s in set_aside)


def _set_aside(skipped: unfit.Skipped) -> Outcome:
    return Outcome(skipped.key, 'skip', Status.SKIPPED,
                   f'not acted on: its name cannot be a file name ({skipped.why}); {unfit.HINT}', 'skipped')


def run(
    opened: Opened, chosen: Selection, *, wait: bool = False, once: bool = False,
    timeout: float = ops.DEFAULT_TIMEOUT, interval: float = ops.DEFAULT_INTERVAL,
    sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
    on_event: OnEvent = ignore,
) -> ops.OpsResult:
    """`jobsync run`: start the jobs (or run Factory jobs once), and with `wait` follow them to the end."""
    specs, set_aside = select(opened, chosen)
    run_once = {k for k, spec in specs.items() if k.kind == 'job' and (once or ops.runs_once_by_default(k, spec))}
    done = ops.run_jobs(opened.workspace, sorted(specs), wait=wait, sleep=sleep, clock=clock, interval=interval,
                        timeout=timeout, once=run_once, on_event=on_event)
    return _with(done, set_aside)


def _with(done: ops.OpsResult, set_aside: tuple[Outcome, ...]) -> ops.OpsResult:
    """The outcomes of what was acted on (in the order it was done), then of what was set aside."""
    return ops.OpsResult((*done.outcomes, *set_aside))


def stop(opened: Opened, chosen: Selection, *, on_event: OnEvent = ignore) -> ops.OpsResult:
    """`jobsync stop`: stop the jobs (a Factory job's schedule, a CDM job's running submission)."""
    specs, set_aside = select(opened, chosen)
    return _with(ops.stop_jobs(opened.workspace, sorted(specs), on_event=on_event), set_aside)


def plan_delete(
    opened: Opened, chosen: Selection, *, what: str, kinds: frozenset[str] = DELETABLE, force: bool = False,
) -> DeletePlan:
    """Choose what to delete (users before what they use) and find which of it git still defines.

    Refuses (UsageError, nothing deleted) when another workspace object not being deleted still
    uses one of them, naming the users, unless `force` (`--force`).
    """
    specs, set_aside = select(opened, chosen, kinds=kinds)
    unchecked: tuple[ObjectKey, ...] = ()
    if not force:
        unread = refuse_if_used(opened.workspace, specs)
        unchecked = tuple(s.key for s in unread if s.key not in {o.key for o in set_aside})
    order = tuple(ops.deletion_order(specs))
    return DeletePlan(opened.workspace.url, what, specs, order, _defined_in_git(opened, order),
                      skipped=set_aside, unchecked=unchecked)


def delete(opened: Opened, planned: DeletePlan, *, on_event: OnEvent = ignore) -> ops.OpsResult:
    """Delete what `plan_delete` chose (after the CLI's confirmation)."""
    return _with(ops.delete_objects(opened.workspace, planned.specs, on_event=on_event), planned.skipped)


def _defined_in_git(opened: Opened, keys: Sequence[ObjectKey]) -> dict[ObjectKey, str]:
    """Which of `keys` (workspace names) git defines for the target, and where."""
    from jobsync import export  # the round-trip YAML writer and its kin: for delete only

    desired, _ = export.load_for_target(opened.snapshot, opened.target.name, present=keys)
    if desired is not None:
        return {k: desired[k].source.label for k in keys if k in desired}
    index = export.index_repo(opened.snapshot.files)
    back, _ = export.invert_remap(opened.target.remap)
    return {k: index[remap_key(k, back)].path for k in keys if remap_key(k, back) in index}


def groups(opened: Opened, clusters: Sequence[str] = ()) -> dict[tuple[str, str], list[ObjectKey]]:
    """`jobsync groups`: (cluster, group) -> its CDM jobs, inside the target's scope."""
    workspace = opened.workspace
    entries = workspace.list_objects()
    cdm = workspace.read({k: e for k, e in entries.items() if k.kind == 'cdm-job'
                          and (not clusters or k.cluster in clusters)})
    return ops.cdm_groups({k: o for k, o in cdm.items() if in_scope(k, o.spec, opened.target.scope)})


def force_unlock(repo: Path, target: str | None, env: Mapping[str, str], lock_id: str) -> Lock:
    """`jobsync force-unlock`: free the target's lock `lock_id`, whoever holds it; the lock freed."""
    with open_target(repo, target, env) as opened:
        return opened.workspace.force_unlock(lock_id)
