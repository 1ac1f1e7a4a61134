"""The pipeline stages wired together, one function per command. No printing, no argv, no env."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from jobsync import secrets
from jobsync.apply import ApplyResult, Event, apply_plan
from jobsync.config import Target
from jobsync.gitrepo import Snapshot, read_snapshot
from jobsync.load import LoadResult, load_config, load_repo
from jobsync.model import ObjectKey, Spec
from jobsync.plan import Plan, make_plan
from jobsync.scope import in_scope, may_be_in_scope
from jobsync.workspace.base import ListEntry, Workspace
from jobsync.workspace.connect import open_workspace
from jobsync.workspace.package import estimate_package_bytes

# A secret's value may be longer than its reference (a keytab is kilobytes): leave room for it
# when estimating a package, so a batch never grows past the limit once secrets are filled in.
SECRET_ALLOWANCE_BYTES = 8 * 1024


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


def load_online(repo: Path, ref: str | None, target: str | None) -> tuple[Loaded, Workspace]:
    """Like `load`, but a reference may also point at an object the target's workspace has.

    Opens the target's workspace and makes one round of list calls (reused by `plan_command`).
    The caller closes the workspace it gets back; on error it is closed here.
    """
    snapshot = read_snapshot(repo, ref)
    chosen = load_config(snapshot).target(target)
    workspace = open_workspace(chosen, snapshot.root)
    try:
        listing = workspace.list_objects()
        result = load_repo(snapshot, target, present=listing.keys())
    except BaseException:
        workspace.close()
        raise
    return Loaded(snapshot, result, result.target, listing), workspace


def package_size(items: Sequence[tuple[ObjectKey, Spec]]) -> int:
    """Upper bound of the import package for these items once secrets are filled in."""
    refs = sum(len(text.refs) for _, spec in items for _, text in secrets.iter_secrets(spec))
    jsonable = [(key, secrets.to_jsonable(spec)) for key, spec in items]
    return estimate_package_bytes(jsonable) + refs * SECRET_ALLOWANCE_BYTES


def plan_command(loaded: Loaded, workspace: Workspace, *, refresh_secrets: bool = False) -> Plan:
    """Compare the repo with the workspace: list calls (unless loading made them), then batched reads.

    Only the target's scope is looked at: workspace objects outside it are neither read (when
    their name already says so) nor listed as unmanaged. Objects git defines are always read.
    """
    listing = loaded.listing if loaded.listing is not None else workspace.list_objects()
    desired, scope = loaded.result.desired, loaded.target.scope
    wanted = {key: entry for key, entry in listing.items() if key in desired or may_be_in_scope(key, scope)}
    live = {key: obj for key, obj in workspace.read(wanted).items() if key in desired or in_scope(key, obj.spec, scope)}
    return make_plan(
        desired,
        live,
        repo_rev=loaded.snapshot.rev,
        target=loaded.target.name,
        workspace=workspace.url,
        max_objects=loaded.target.max_objects,
        max_bytes=loaded.target.max_bytes,
        size_of=package_size,
        api_calls=dict(workspace.calls),
        refresh_secrets=refresh_secrets,
    )


def check_secrets(loaded: Loaded, resolver: secrets.SecretResolver) -> list[str]:
    """Problems resolving the repo's secret references for this target (references only, no values)."""
    users: dict[secrets.SecretRef, list[str]] = {}
    for key, definition in loaded.result.desired.items():
        for ref in secrets.refs_in(definition.spec):
            users.setdefault(ref, []).append(str(key))
    return [f'{ref}: {why} (used by {", ".join(sorted(users[ref]))})' for ref, why in resolver.check(set(users))]


def open_target(loaded: Loaded) -> Workspace:
    return open_workspace(loaded.target, loaded.snapshot.root)


def apply_command(
    plan: Plan,
    workspace: Workspace,
    resolver: secrets.SecretResolver,
    on_event: Callable[[Event], None],
) -> ApplyResult:
    return apply_plan(plan, workspace, resolver=resolver, on_event=on_event)
