"""The pipeline stages wired together, one function per command. No printing, no argv, no env."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from jobsync import secrets
from jobsync.apply import ApplyResult, Event, apply_plan
from jobsync.config import Target
from jobsync.gitrepo import Snapshot, read_snapshot
from jobsync.load import LoadResult, load_repo
from jobsync.model import ObjectKey, Spec
from jobsync.plan import Plan, make_plan
from jobsync.workspace.base import Workspace
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


def load(repo: Path, ref: str | None, target: str | None) -> Loaded:
    """Read and validate the repo (working tree, or commit `ref`) and pick the target."""
    snapshot = read_snapshot(repo, ref)
    result = load_repo(snapshot)
    return Loaded(snapshot, result, result.config.target(target))


def package_size(items: Sequence[tuple[ObjectKey, Spec]]) -> int:
    """Upper bound of the import package for these items once secrets are filled in."""
    refs = sum(len(text.refs) for _, spec in items for _, text in secrets.iter_secrets(spec))
    jsonable = [(key, secrets.to_jsonable(spec)) for key, spec in items]
    return estimate_package_bytes(jsonable) + refs * SECRET_ALLOWANCE_BYTES


def plan_command(loaded: Loaded, workspace: Workspace, *, refresh_secrets: bool = False) -> Plan:
    """Compare the repo with the workspace: list calls, then batched reads."""
    live = workspace.read(workspace.list_objects())
    return make_plan(
        loaded.result.desired,
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
