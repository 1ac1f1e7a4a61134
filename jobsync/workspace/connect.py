"""Open the workspace a target names: the only place that knows every backend."""
from __future__ import annotations

from pathlib import Path

from jobsync.config import Target
from jobsync.errors import UsageError
from jobsync.workspace.base import Workspace


def open_workspace(target: Target, repo_root: Path) -> Workspace:
    """Open the target's workspace. `local:PATH` is relative to the repo root unless absolute."""
    url = target.workspace
    if url.startswith('local:'):
        from jobsync.workspace.local import LocalWorkspace

        path = Path(url.removeprefix('local:'))
        return LocalWorkspace(path if path.is_absolute() else repo_root / path)
    raise UsageError(
        f'target {target.name!r}: unsupported workspace {url!r}',
        hint='use local:PATH for the embedded workspace',
    )
