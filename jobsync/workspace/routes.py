"""Every DataArts route jobsync uses (and the emulator serves), as data: one table, one name each.

The client (`client.py`), the transports that count calls (`http.py`, `inprocess.py`) and the
emulator's router (`emulator/routes.py`) all read this table, so a route is spelt one way
everywhere: `calls` counts `GET /v1/{pid}/scripts/{script_name}` on `local:` and over HTTPS alike.

Each `Route` says:

* `op`: its one name (`show_script`); the emulator binds its handler to it;
* `service`: which endpoint serves it (`factory` = DLF v1, `management` = Management Center,
  `cdm` = CDM v1.1); it also picks the error body shape the service answers with;
* `method`, `template`: `{pid}` is the project id, the other `{names}` are the path parameters,
  percent-encoded one segment each; `{name*}` takes the rest of the path (emulator only);
* `wrapper`: the field a write body wraps its one object in (`{"links": [spec]}`), or None;
* `idempotent`: whether a call may be repeated when its answer was lost (None: by method: GET,
  PUT and DELETE may, POST may not);
* `emulator_only`: not a route of the real service (a convenience of `jobsync emulator` and of
  `local:`, documented where it is used).

Wire facts: reference §4 (jobs), §5 (scripts), §6 (resources), §7.2 (data connections), §9 (CDM).
The order matters to the emulator's router: a literal segment (`batch-export`, `all`) comes
before a parameter in the same place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Service = Literal['factory', 'management', 'cdm']
SERVICES: tuple[Service, ...] = ('factory', 'management', 'cdm')

_PARAM = re.compile(r'\{(\w+)\*?\}')


@dataclass(frozen=True)
class Route:
    """One API route (see the module docstring)."""

    op: str
    service: Service
    method: str
    template: str
    wrapper: str | None = None
    idempotent: bool | None = None
    emulator_only: bool = False

    @property
    def name(self) -> str:
        """What calls are counted and reported by: `GET /v1/{pid}/jobs`."""
        return f'{self.method} {self.template}'

    @property
    def params(self) -> tuple[str, ...]:
        """The path parameters other than `pid`, in path order."""
        return tuple(p for p in _PARAM.findall(self.template) if p != 'pid')

    @property
    def safe_to_repeat(self) -> bool:
        if self.idempotent is not None:
            return self.idempotent
        return self.method in ('GET', 'HEAD', 'PUT', 'DELETE')


ROUTES: dict[str, Route] = {}


def _route(op: str, service: Service, method: str, template: str, *, wrapper: str | None = None,
           idempotent: bool | None = None, emulator_only: bool = False) -> Route:
    route = Route(op, service, method, template, wrapper, idempotent, emulator_only)
    if op in ROUTES:
        raise ValueError(f'route {op} is defined twice')
    ROUTES[op] = route
    return route


_JOB = '/v1/{pid}/jobs/{job_name}'
_LINK = '/v1.1/{pid}/clusters/{cluster_id}/cdm/link'
_CDM_JOB = '/v1.1/{pid}/clusters/{cluster_id}/cdm/job'

# --- DLF jobs (reference §4) ------------------------------------------------------------------
LIST_JOBS = _route('list_jobs', 'factory', 'GET', '/v1/{pid}/jobs')
CREATE_JOB = _route('create_job', 'factory', 'POST', '/v1/{pid}/jobs')
# A read, although a POST: safe to repeat.
EXPORT_JOBS = _route('export_jobs', 'factory', 'POST', '/v1/{pid}/jobs/batch-export', idempotent=True)
IMPORT_JOBS = _route('import_jobs', 'factory', 'POST', '/v1/{pid}/jobs/import')
SHOW_JOB = _route('show_job', 'factory', 'GET', _JOB)
UPDATE_JOB = _route('update_job', 'factory', 'PUT', _JOB)
DELETE_JOB = _route('delete_job', 'factory', 'DELETE', _JOB)
START_JOB = _route('start_job', 'factory', 'POST', _JOB + '/start')
STOP_JOB = _route('stop_job', 'factory', 'POST', _JOB + '/stop', idempotent=True)
# Not safe to repeat: every call makes one more instance (reference §4.5).
RUN_ONCE = _route('run_once', 'factory', 'POST', _JOB + '/run-immediate', idempotent=False)
EXPORT_JOB = _route('export_job', 'factory', 'POST', _JOB + '/export', idempotent=True)
JOB_STATUS = _route('job_status', 'factory', 'GET', _JOB + '/status')
SHOW_INSTANCE = _route('show_instance', 'factory', 'GET', _JOB + '/instances/{instance_id}')
SHOW_TASK = _route('show_task', 'factory', 'GET', '/v1/{pid}/system-tasks/{task_id}')

# --- scripts, resources (§5, §6) --------------------------------------------------------------
LIST_SCRIPTS = _route('list_scripts', 'factory', 'GET', '/v1/{pid}/scripts')
CREATE_SCRIPT = _route('create_script', 'factory', 'POST', '/v1/{pid}/scripts')
SHOW_SCRIPT = _route('show_script', 'factory', 'GET', '/v1/{pid}/scripts/{script_name}')
UPDATE_SCRIPT = _route('update_script', 'factory', 'PUT', '/v1/{pid}/scripts/{script_name}')
DELETE_SCRIPT = _route('delete_script', 'factory', 'DELETE', '/v1/{pid}/scripts/{script_name}')
LIST_RESOURCES = _route('list_resources', 'factory', 'GET', '/v1/{pid}/resources')
CREATE_RESOURCE = _route('create_resource', 'factory', 'POST', '/v1/{pid}/resources')
SHOW_RESOURCE = _route('show_resource', 'factory', 'GET', '/v1/{pid}/resources/{resource_id}')
UPDATE_RESOURCE = _route('update_resource', 'factory', 'PUT', '/v1/{pid}/resources/{resource_id}')
DELETE_RESOURCE = _route('delete_resource', 'factory', 'DELETE', '/v1/{pid}/resources/{resource_id}')

# --- Management-Center data connections (§7.2) ------------------------------------------------
_CONN = '/v1/{pid}/data-connections/{data_connection_id}'
LIST_CONNECTIONS = _route('list_connections', 'management', 'GET', '/v1/{pid}/data-connections')
CREATE_CONNECTION = _route('create_connection', 'management', 'POST', '/v1/{pid}/data-connections',
                           wrapper='data_source_vos')
VALIDATE_CONNECTION = _route('validate_connection', 'management', 'POST', '/v1/{pid}/data-connections/validation',
                             idempotent=True)
SHOW_CONNECTION = _route('show_connection', 'management', 'GET', _CONN)
UPDATE_CONNECTION = _route('update_connection', 'management', 'PUT', _CONN, wrapper='data_source_vos')
DELETE_CONNECTION = _route('delete_connection', 'management', 'DELETE', _CONN)

# Finding the default workspace (notes/issue11-facts.md §4; neither takes a `workspace` header):
# dataartsstudio `list_data_arts_studio_instances`, then `list_manager_work_spaces` (TF
# `data_source_huaweicloud_dataarts_studio_workspaces.go` uses this route and these fields).
LIST_INSTANCES = _route('list_instances', 'management', 'GET', '/v1/{pid}/instances')
LIST_WORKSPACES = _route('list_workspaces', 'management', 'GET', '/v1/{pid}/workspaces/{instance_id}')

# --- CDM (§9) ---------------------------------------------------------------------------------
LIST_CLUSTERS = _route('list_clusters', 'cdm', 'GET', '/v1.1/{pid}/clusters')
# Stands in for buying a cluster: `{"cluster": {"name": ...}}`. `local:` calls it for a cluster
# named in a key that does not exist yet (local.py); the real service needs one bought first.
CREATE_CLUSTER = _route('create_cluster', 'cdm', 'POST', '/v1.1/{pid}/clusters', emulator_only=True)
SHOW_CLUSTER = _route('show_cluster', 'cdm', 'GET', '/v1.1/{pid}/clusters/{cluster_id}')
# The body takes a list and the answer names one object: jobsync packs creates (cdmbatch.py) and, after
# a refusal or a lost answer, lists the cluster to see which exist (client.py; notes/issue14-cdm-batch.md).
CREATE_LINK = _route('create_link', 'cdm', 'POST', _LINK, wrapper='links')
LIST_LINKS = _route('list_links', 'cdm', 'GET', _LINK + '/all')
SHOW_LINK = _route('show_link', 'cdm', 'GET', _LINK + '/{link_name}')
UPDATE_LINK = _route('update_link', 'cdm', 'PUT', _LINK + '/{link_name}', wrapper='links')
DELETE_LINK = _route('delete_link', 'cdm', 'DELETE', _LINK + '/{link_name}')
CREATE_CDM_JOB = _route('create_cdm_job', 'cdm', 'POST', _CDM_JOB, wrapper='jobs')
SUBMISSIONS = _route('submissions', 'cdm', 'GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/submissions')
LIST_CDM_JOBS = _route('list_cdm_jobs', 'cdm', 'GET', _CDM_JOB + '/all')
SHOW_CDM_JOB = _route('show_cdm_job', 'cdm', 'GET', _CDM_JOB + '/{job_name}')
UPDATE_CDM_JOB = _route('update_cdm_job', 'cdm', 'PUT', _CDM_JOB + '/{job_name}', wrapper='jobs')
DELETE_CDM_JOB = _route('delete_cdm_job', 'cdm', 'DELETE', _CDM_JOB + '/{job_name}')
# PUTs, but not safe to repeat: every start makes a submission; the caller checks the status.
START_CDM_JOB = _route('start_cdm_job', 'cdm', 'PUT', _CDM_JOB + '/{job_name}/start', idempotent=False)
STOP_CDM_JOB = _route('stop_cdm_job', 'cdm', 'PUT', _CDM_JOB + '/{job_name}/stop', idempotent=False)
CDM_JOB_STATUS = _route('cdm_job_status', 'cdm', 'GET', _CDM_JOB + '/{job_name}/status')

# --- the emulator's own ------------------------------------------------------------------------
# Fills its fake OBS, from which `jobs/import` reads packages (§4.7).
PUT_OBS = _route('put_obs', 'factory', 'PUT', '/_emulator/obs/{bucket}/{key*}', emulator_only=True)
# What a workspace administrator sets in the console and no API reaches (service/admin.py): the
# review switch and the locked job tags; and a script locked for a named user, as opening it for
# edit in the console does. Per project and `workspace` header, like every other route.
ADMIN_SETTINGS = _route('admin_settings', 'factory', 'PUT', '/_emulator/{pid}/settings', emulator_only=True)
ADMIN_SHOW_SETTINGS = _route('admin_show_settings', 'factory', 'GET', '/_emulator/{pid}/settings',
                             emulator_only=True)
ADMIN_LOCK_SCRIPT = _route('admin_lock_script', 'factory', 'PUT', '/_emulator/{pid}/scripts/{script_name}/lock',
                           emulator_only=True)
ADMIN_UNLOCK_SCRIPT = _route('admin_unlock_script', 'factory', 'DELETE',
                             '/_emulator/{pid}/scripts/{script_name}/lock', emulator_only=True)


def route(op: str) -> Route:
    """The route named `op`; `KeyError` names it when there is none."""
    try:
        return ROUTES[op]
    except KeyError:
        raise KeyError(f'no route named {op!r}') from None
