"""Which objects a console-style command addresses: export scopes, and the jobs run/stop/delete act on.

Not to be confused with `scope.py`, the part of a shared workspace a *target* owns: a selection
chooses among what the target may see.

The console's CDM export offers "all jobs and links", "all jobs", "all links", "jobs by name"
and "all jobs by group" (reference §9.5); Factory exports a list of jobs with or without their
scripts and resources (`exportDepend`, §4.6). jobsync offers the same scopes over the whole
workspace:

* `all`    every object: Factory jobs, scripts, resources, data connections, CDM links and jobs;
* `jobs`   Factory jobs and CDM jobs;
* `links`  CDM links and data connections (both are where passwords live);
* `names`  jobs (Factory or CDM) by name, or any object by its key (`script/load`,
           `cdm-link/cdm-prod/mysql_src`);
* `groups` CDM jobs whose group (`groupJobConfig.groupName`, `DEFAULT` when unset) is one of these;
* `clusters` restricts every CDM object to these clusters.

With `with_deps`, what the selected objects reference comes too, transitively (a job's scripts,
resources, connections, CDM jobs and upstream `dependJobs` jobs; a CDM job's links; a script's
connection), so that the exported repo validates on its own.

Selection is pure (`selects`, `dependencies`); `read_scope` is the one function here that talks to
a workspace, and gets it as an argument.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from jobsync.errors import UsageError
from jobsync.kinds import cdm_group
from jobsync.model import CDM_KINDS, Kind, LiveObject, ObjectKey, Spec
from jobsync.refs import references
from jobsync.scope import Scope as TargetScope
from jobsync.scope import in_scope, may_be_in_scope
from jobsync.workspace.base import ListEntry, Workspace

JOB_KINDS: frozenset[Kind] = frozenset({'job', 'cdm-job'})
LINK_KINDS: frozenset[Kind] = frozenset({'cdm-link', 'connection'})


@dataclass(frozen=True)
class Scope:
    """What to address; several selectors add up (a union). See the module docstring."""

    all: bool = False
    jobs: bool = False
    links: bool = False
    names: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()
    with_deps: bool = True

    @property
    def empty(self) -> bool:
        return not (self.all or self.jobs or self.links or self.names or self.groups)

    def describe(self) -> str:
        parts = []
        if self.all:
            parts.append('everything')
        if self.jobs:
            parts.append('all jobs')
        if self.links:
            parts.append('all links and connections')
        if self.names:
            parts.append('named ' + ', '.join(self.names))
        if self.groups:
            parts.append('CDM group ' + ', '.join(self.groups))
        text = ' + '.join(parts) or 'nothing'
        if self.clusters:
            text += f' (clusters {", ".join(self.clusters)})'
        return text


def _parse_key(name: str) -> ObjectKey | None:
    if '/' not in name:
        return None
    try:
        return ObjectKey.parse(name)
    except ValueError:
        return None


def name_matches(name: str, key: ObjectKey) -> bool:
    """`name` is a job name (Factory or CDM job) or an object key's string form."""
    parsed = _parse_key(name)
    if parsed is not None:
        return parsed == key
    return key.kind in JOB_KINDS and key.name == name


def needs_content(scope: Scope) -> bool:
    """Whether selecting needs the CDM jobs' content (groups live inside the spec)."""
    return bool(scope.groups)


def selects(scope: Scope, key: ObjectKey, spec: Spec | None = None) -> bool:
    """Whether `scope` selects `key` directly (dependencies aside). `spec` is needed for groups."""
    if scope.clusters and key.kind in CDM_KINDS and key.cluster not in scope.clusters:
        return False
    if scope.all:
        return True
    if scope.jobs and key.kind in JOB_KINDS:
        return True
    if scope.links and key.kind in LINK_KINDS:
        return True
    if any(name_matches(name, key) for name in scope.names):
        return True
    return bool(scope.groups and key.kind == 'cdm-job' and spec is not None and cdm_group(spec) in scope.groups)


def unknown_names(scope: Scope, keys: Iterable[ObjectKey]) -> list[str]:
    """Names of the scope that match no key (within the scope's clusters)."""
    keys = [k for k in keys if not (scope.clusters and k.kind in CDM_KINDS and k.cluster not in scope.clusters)]
    return [n for n in scope.names if not any(name_matches(n, k) for k in keys)]


def dependencies(specs: Mapping[ObjectKey, Spec]) -> set[ObjectKey]:
    """Every key the given specs reference (one level)."""
    return {ref.target for key, spec in specs.items() for ref in references(key, spec)}


def read_scope(
    workspace: Workspace,
    scope: Scope,
    *,
    entries: Mapping[ObjectKey, ListEntry] | None = None,
    within: TargetScope | None = None,
    unread: Collection[ObjectKey] = (),
) -> dict[ObjectKey, LiveObject]:
    """The live objects `scope` selects (and, with `with_deps`, what they reference), read in batches.

    `entries` is the workspace's listing when the caller has it (else it is listed here);
    `within` the target's scope (`scope.py`): objects outside it are neither read, when their
    name says so, nor returned. Raises UsageError when a name matches nothing in the workspace.
    References to objects the workspace does not have are left out (the caller reports them).
    `unread` are objects whose content the caller knows already (export: what is unchanged since
    the last apply): neither read nor returned, nor are their references followed.
    """
    if entries is None:
        entries = workspace.list_objects()
    missing = unknown_names(scope, entries)
    if missing:
        raise UsageError(f'not in the workspace {workspace.url}: {", ".join(missing)}',
                         hint='name a job (Factory or CDM) or an object key such as script/NAME or '
                              'cdm-link/CLUSTER/NAME; `jobsync drift` lists what the workspace has')
    if within is not None and not within.is_everything:
        entries = {k: e for k, e in entries.items() if may_be_in_scope(k, within)}
        outside = unknown_names(scope, entries)
        if outside:
            raise UsageError(f'outside the target\'s scope ({within.describe()}): {", ".join(outside)}',
                             hint='export it with the target that owns it')
    chosen = {k for k in entries if selects(scope, k)}
    live: dict[ObjectKey, LiveObject] = {}
    if needs_content(scope):
        candidates = {k for k in entries if k.kind == 'cdm-job' and k not in chosen
                      and not (scope.clusters and k.cluster not in scope.clusters)}
        if candidates:
            for key, obj in workspace.read(_entries(entries, candidates)).items():
                if selects(scope, key, obj.spec):
                    chosen.add(key)
                    live[key] = obj
    rest = chosen - set(live) - set(unread)
    if rest:
        live.update(workspace.read(_entries(entries, rest)))
    _check_groups(scope, live)
    frontier = dict(live)
    while scope.with_deps and frontier:
        wanted = {k for k in dependencies({k: o.spec for k, o in frontier.items()}) if k in entries} \
            - set(live) - set(unread)
        frontier = workspace.read(_entries(entries, wanted)) if wanted else {}
        live.update(frontier)
    if within is not None:
        live = {k: o for k, o in live.items() if in_scope(k, o.spec, within)}
    return dict(sorted(live.items()))


def _check_groups(scope: Scope, live: Mapping[ObjectKey, LiveObject]) -> None:
    """A --group no CDM job has is an error, as for `jobsync run --group` (a typo is no empty export)."""
    found = {cdm_group(o.spec) for k, o in live.items()
             if k.kind == 'cdm-job' and (not scope.clusters or k.cluster in scope.clusters)}
    empty = [g for g in scope.groups if g not in found]
    if empty:
        clusters = f' (clusters {", ".join(scope.clusters)})' if scope.clusters else ''
        raise UsageError(f'no CDM job in group {", ".join(empty)}{clusters}',
                         hint='`jobsync groups` lists the groups and their jobs')


def _entries(entries: Mapping[ObjectKey, ListEntry], keys: Iterable[ObjectKey]) -> dict[ObjectKey, ListEntry]:
    # Passing the list entries (not bare keys) lets the backend reuse what list_objects saw.
    return {k: entries[k] for k in sorted(set(keys))}
