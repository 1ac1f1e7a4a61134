"""Open the workspace a target names: the only place that knows every backend."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from jobsync.config import Target
from jobsync.errors import UsageError
from jobsync.workspace.base import Workspace


def open_workspace(target: Target, repo_root: Path, env: Mapping[str, str]) -> Workspace:
    """Open the target's workspace. `local:PATH` is relative to the repo root unless absolute.

    A `dataarts` target (or a saved plan's `dataarts:...` workspace) takes its credentials from
    `env` (the CLI passes the process environment): `HUAWEICLOUD_SDK_AK`/`HUAWEICLOUD_SDK_SK`, or
    `JOBSYNC_DATAARTS_TOKEN`. Credentials are the one thing read from the environment here, so
    that every command that opens a target (plan, apply, export, lock) can reach the service.
    """
    url = target.workspace
    if url.startswith('local:'):
        from jobsync.workspace.local import LocalWorkspace

        path = Path(url.removeprefix('local:'))
        return LocalWorkspace(path if path.is_absolute() else repo_root / path)
    if url == 'dataarts' or url.startswith('dataarts:'):
        from jobsync.workspace.dataarts import open_dataarts

        try:
            return open_dataarts(target, env)
        except ImportError as exc:  # the core install has no httpx
            if exc.name != 'httpx':
                raise
            raise UsageError(
                f'target {target.name!r}: the dataarts backend needs the `http` extra (httpx is not installed)',
                hint="pip install 'jobsync[http]'",
            ) from None
    raise UsageError(
        f'target {target.name!r}: unsupported workspace {url!r}',
        hint='use local:PATH for the embedded workspace, or dataarts for the service',
    )
