"""Open the workspace a target names: the only place that knows every backend.

Both backends are the one DataArts client (client.py): `local:PATH` over the in-process
transport into an emulator on the SQLite file at PATH (local.py), `dataarts` over HTTPS with the
target's `dataarts:` settings (`DataArtsConfig`) and credentials from the environment passed in.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jobsync.config import Target
from jobsync.errors import UsageError
from jobsync.workspace.base import Workspace
from jobsync.workspace.cdmruns import CdmRunPolicy
from jobsync.workspace.endpoints import EXCEPTION_FIELD, check_endpoints
from jobsync.workspace.http import DEFAULT_TIMEOUT, HttpSettings, credentials_from_env, default_endpoints
from jobsync.workspace.ratelimit import DEFAULT_RATE_LIMITS
from jobsync.workspace.reader import DEFAULT_CONCURRENCY
from jobsync.workspace.review import review_of
from jobsync.workspace.routes import SERVICES, Service
from jobsync.workspace.transport import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_MAX_ATTEMPTS,
)

if TYPE_CHECKING:
    from jobsync.workspace.client import DataArtsClient


def open_workspace(target: Target, repo_root: Path, env: Mapping[str, str]) -> Workspace:
    """Open the target's workspace. `local:PATH` is relative to the repo root unless absolute.

    A `dataarts` target (or a saved plan's `dataarts:...` workspace) takes its credentials from
    `env` (the CLI passes the process environment): `HUAWEICLOUD_SDK_AK`/`HUAWEICLOUD_SDK_SK`, or
    `JOBSYNC_DATAARTS_TOKEN`. Nothing here reads the process environment itself.
    """
    url = target.workspace
    if url.startswith('local:'):
        from jobsync.workspace.local import DEFAULT_PATH, LocalWorkspace

        # Not created before something is written to it (issue 12, item 10).
        local = LocalWorkspace(local_path(target, repo_root, url.removeprefix('local:') or DEFAULT_PATH),
                               create=False)
        local.use_review(review_of(target.settings))
        return local
    if url == 'dataarts' or url.startswith('dataarts:'):
        try:
            client = open_dataarts(target, env)
            client.use_review(review_of(target.settings))
            return client
        except ImportError as exc:  # the core install has no httpx
            if exc.name != 'httpx':
                raise
            raise UsageError(
                f'target {target.name!r}: the dataarts backend needs the `http` extra (httpx is not installed)',
                hint="pip install 'jobsync-dataarts[http]'",
            ) from None
    raise UsageError(
        f'target {target.name!r}: unsupported workspace {url!r}',
        hint='use local:PATH for the embedded workspace, or dataarts for the service',
    )


def local_path(target: Target, repo_root: Path, given: str) -> Path:
    """Where a `local:` workspace lives: under the repo, or at an explicit absolute path. A relative
    path climbing out of the repo (`../x.db`, or through a symlinked folder) is refused before
    anything is created, so a pull request cannot make jobsync write a database elsewhere."""
    path = Path(given)
    if path.is_absolute():
        return path
    root = repo_root.resolve()
    resolved = (root / path).resolve()
    if resolved != root and root not in resolved.parents:
        raise UsageError(
            f'target {target.name!r}: workspace local:{given} is outside the repo',
            hint='give a path inside the repo (local:.jobsync/workspace.db), or an explicit absolute path',
        )
    return root / path


@dataclass(frozen=True)
class DataArtsConfig:
    """A `dataarts` target, from jobsync.yaml (credentials excluded: they come from the environment)."""

    project_id: str
    region: str = ''
    workspace_id: str = ''
    endpoints: Mapping[Service, str] | None = None
    cdm_clusters: Mapping[str, str] | None = None  # CDM cluster name -> id
    rate_limits: Mapping[str, float] | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    timeout: float = DEFAULT_TIMEOUT
    verify_tls: bool = True
    cdm_wait_seconds: float = 0.0  # a running CDM job: wait this long before overwriting it (cdmruns.py)
    stop_running_cdm_jobs: bool = False  # ... or stop it

    @classmethod
    def from_target(cls, target: Target) -> DataArtsConfig:
        """Read the target's `dataarts:` mapping (schema-validated by `load`); `UsageError` if unusable."""
        where = f'target {target.name!r}'
        raw = target.settings.get('dataarts')
        if not isinstance(raw, Mapping):
            raise UsageError(f'{where}: workspace dataarts needs a `dataarts:` section',
                             hint='give at least region and project_id (see README, "Using a dataarts target")')
        project_id = str(raw.get('project_id') or '')
        region = str(raw.get('region') or '')
        endpoints = dict(raw.get('endpoints') or {})
        if not project_id:
            raise UsageError(f'{where}: dataarts.project_id is not set', hint='the project id of the region')
        unknown = sorted(set(endpoints) - set(SERVICES))
        if unknown:
            raise UsageError(f'{where}: unknown endpoint(s) {", ".join(unknown)}',
                             hint=f'endpoints are given per service: {", ".join(SERVICES)}')
        if not region and set(endpoints) != set(SERVICES):
            raise UsageError(f'{where}: dataarts.region is not set',
                             hint='give the region (cn-north-4, ...), or an endpoint for every service')
        endpoints = {**(default_endpoints(region) if region else {}), **endpoints}
        check_endpoints(where, region, endpoints, raw.get(EXCEPTION_FIELD) or ())  # before any request
        limits = raw.get('rate_limits') or {}
        return cls(
            project_id=project_id, region=region, workspace_id=str(raw.get('workspace_id') or ''),
            endpoints=endpoints,
            cdm_clusters={str(k): str(v) for k, v in (raw.get('cdm_clusters') or {}).items()} or None,
            rate_limits={**DEFAULT_RATE_LIMITS, **{k: float(v) for k, v in limits.items()}},
            concurrency=int(raw.get('concurrency', DEFAULT_CONCURRENCY)),
            max_attempts=int(raw.get('max_attempts', DEFAULT_MAX_ATTEMPTS)),
            backoff_base=float(raw.get('backoff_seconds', DEFAULT_BACKOFF_BASE)),
            timeout=float(raw.get('timeout_seconds', DEFAULT_TIMEOUT)),
            verify_tls=bool(raw.get('verify_tls', True)),
            cdm_wait_seconds=float(raw.get('cdm_wait_seconds', 0.0)),
            stop_running_cdm_jobs=bool(raw.get('stop_running_cdm_jobs', False)),
        )


def open_dataarts(target: Target, env: Mapping[str, str]) -> DataArtsClient:
    """The workspace of a `workspace: dataarts` target, with credentials from `env`."""
    config = DataArtsConfig.from_target(target)
    credentials = credentials_from_env(env, f'target {target.name!r}')
    settings = HttpSettings(
        project_id=config.project_id, endpoints=dict(config.endpoints or {}), credentials=credentials,
        workspace_id=config.workspace_id, rate_limits=dict(config.rate_limits or DEFAULT_RATE_LIMITS),
        max_attempts=config.max_attempts, backoff_base=config.backoff_base, timeout=config.timeout,
        verify_tls=config.verify_tls,
    )
    from jobsync.workspace.client import DataArtsClient
    from jobsync.workspace.http import HttpTransport

    transport = HttpTransport(settings)
    workspace_id = config.workspace_id
    if not workspace_id:  # the `workspace` header is always sent: look the default one up (workspaces.py)
        from jobsync.workspace.workspaces import default_workspace_id

        try:
            workspace_id = default_workspace_id(transport, f'target {target.name!r}')
        except BaseException:
            transport.close()
            raise
        transport.settings = dataclasses.replace(settings, workspace_id=workspace_id)
    url = f'dataarts:{config.region or settings.endpoints["factory"]}/{config.project_id}/' \
          f'{config.workspace_id or "default"}'
    client = DataArtsClient(transport, url=url, cdm_clusters=config.cdm_clusters, concurrency=config.concurrency)
    client.cdm_runs = CdmRunPolicy(wait_seconds=config.cdm_wait_seconds, stop_running=config.stop_running_cdm_jobs)
    return client
