"""`jobsync emulator`: the DataArts routes over real HTTP on 127.0.0.1, backed by `engine.Engine`.

The same engine serves `local:` workspaces, so both backends obey the same rules. This module
is only the HTTP face of it: routing (reference §4–§9), the gateway (auth, size limit, request
ids, throttling, §2, §3.4, §11.2), the service's error bodies (§3.1) and injected faults.

* Routes: DLF v1 jobs (list, show, create, update, delete, export, batch-export, import,
  start, stop, run-immediate, instances, real-time status), scripts, resources, system tasks;
  Management-Center data connections; CDM v1.1 clusters, links, jobs, start, stop, status,
  submissions. All three services answer on the one port (a client points its factory,
  management and cdm endpoints at the same URL); routing is by path, not host [INF]. A route
  that does not exist answers 404 `APIGW.0101`.
* Spaces: every request is served by `engine.scoped(project, workspace)`, the project from the
  path, the workspace from the `workspace` header (absent: `default`). CDM ignores the header
  (the service only has the default workspace for CDM, §2.3). Any project id is accepted.
* Auth: `SDK-HMAC-SHA256` verified against the configured AK/SK pairs (`signer.verify`, with the
  gateway's 15-minute skew), or an `X-Auth-Token` from the configured set; anything else is 401
  `APIGW.0301`. The AK (or `token-user`) is the user the engine records.
* Fidelity choices: CDM string input values are URL-encoded on GET (§9.3; spaces kept, so the
  `Add password here` placeholder reads as documented); script GET errors can use the
  `{"errors":[...]}` shape (`script_errors='list'`, §5); `jobs/import` reads zips from a fake
  OBS (`obs://bucket/key`) filled by exports with `obsPath` and by `PUT /_emulator/obs/...`.
* Faults (for tests and benchmarks; bounded, seeded): added latency, a throttle answering 429
  `APIG.0308` with `Retry-After`, 5xx answers and dropped connections at given rates, each
  either before the request reaches the engine or after it was processed (the answer is lost:
  what a client must survive without duplicating a write).

`starlette` and `uvicorn` are imported lazily (the `emulator` extra).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from jobsync.errors import WorkspaceError
from jobsync.model import Spec
from jobsync.workspace import signer
from jobsync.workspace.service import Engine, EngineError

MAX_BODY_BYTES = 12 * 1024 * 1024  # AK/SK request bodies (reference §2.2)
MAX_OBS_IMPORT_BYTES = 10 * 1024 * 1024  # a job import file from OBS (reference §4.7)
MAX_RATE = 0.9  # fault rates above this would starve every client: refused
TOKEN_USER = 'token-user'

log = logging.getLogger('jobsync.emulator')


# --- configuration ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Faults:
    """Injected trouble. Rates are fractions of requests (0 ≤ rate ≤ 0.9); `max_faults` bounds
    how many 5xx and drops are injected in all (None: no bound); `seed` makes runs repeatable."""

    latency_ms: float = 0.0
    throttle_rps: float = 0.0  # 0: off
    throttle_burst: int = 0  # 0: one second's worth
    fault_rate: float = 0.0
    drop_rate: float = 0.0
    max_faults: int | None = None
    seed: int | None = None
    phase: str = 'both'  # when a 5xx or drop strikes: 'before' processing, 'after' it, or 'both' (at random)

    def __post_init__(self) -> None:
        if self.phase not in ('before', 'after', 'both'):
            raise ValueError(f"phase must be 'before', 'after' or 'both', not {self.phase!r}")
        for name in ('fault_rate', 'drop_rate'):
            value = getattr(self, name)
            if not 0.0 <= value <= MAX_RATE:
                raise ValueError(f'{name} must be between 0 and {MAX_RATE}, not {value}')
        if self.latency_ms < 0 or self.throttle_rps < 0:
            raise ValueError('latency and throttle must not be negative')
        if self.fault_rate + self.drop_rate > MAX_RATE:
            raise ValueError(f'fault_rate + drop_rate must be at most {MAX_RATE}')


class _GatewayError(Exception):
    """An answer from the API gateway, not the service: `{"error_code","error_msg","request_id"}`."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


class _Dropped(Exception):
    """Raised after the response started: the server closes the connection mid-answer."""


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, _Dropped)


@dataclass
class _Reply:
    status: int
    body: Any = None  # JSON-able, or bytes
    content_type: str = 'application/json;charset=UTF-8'
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Call:
    """What a handler gets: the scoped engine, path parameters, query, JSON body, raw body."""

    engine: Engine
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    raw: bytes
    headers: Mapping[str, str]


Handler = Callable[['Emulator', _Call], _Reply]


# --- helpers --------------------------------------------------------------------------------------

def _int(query: Mapping[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None or value == '':
        return default
    try:
        return int(value)
    except ValueError:
        raise EngineError('DLF.3051', f'The request parameter is invalid: {name}={value!r}.') from None


def _bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == 'true'
    return bool(value)


def _obj(body: Any, what: str) -> Spec:
    if not isinstance(body, dict):
        raise EngineError('DLF.3051', f'The request parameter is invalid: the body must be a {what} object.')
    return body


def _one(body: Any, field_name: str, family: str) -> list[Spec]:
    """The objects of a CDM `{"links": [...]}` / `{"jobs": [...]}` or data-connection wrapper body."""
    items = body.get(field_name) if isinstance(body, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        code = 'Cdm.0004' if family == 'cdm' else 'DLF.3051'
        raise EngineError(code, f'The request parameter is invalid: "{field_name}" must be a non-empty list.',
                          family='cdm' if family == 'cdm' else 'dayu' if family == 'dayu' else 'dlf')
    return items


def encode_cdm_values(spec: Spec) -> Spec:
    """A CDM link or job as GET returns it: string input values URL-encoded (reference §9.3).

    [INF] Spaces are kept, so the documented `Add password here` placeholder reads as the docs
    show it; everything else outside RFC 3986's unreserved set is percent-encoded.
    """
    out = dict(spec)
    for name in ('link-config-values', 'from-config-values', 'to-config-values', 'driver-config-values'):
        values = out.get(name)
        if not isinstance(values, dict) or not isinstance(values.get('configs'), list):
            continue
        configs = []
        for config in values['configs']:
            if isinstance(config, dict) and isinstance(config.get('inputs'), list):
                config = {**config, 'inputs': [
                    {**item, 'value': quote(item['value'], safe=' ~')}
                    if isinstance(item, dict) and isinstance(item.get('value'), str) else item
                    for item in config['inputs']]}
            configs.append(config)
        out[name] = {**values, 'configs': configs}
    return out


# --- handlers: DLF jobs (reference §4) --------------------------------------------------------------

def _offset(em: Emulator, c: _Call) -> int:
    """The record offset a list call asks for. With `paging='pages'` the emulator reads `offset`
    as a page number, as the docs describe it (reference §3.3, §13.1) [INF: off by default]."""
    offset = _int(c.query, 'offset', 0)
    return offset * _int(c.query, 'limit', 10) if em.paging == 'pages' else offset


def _list_jobs(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, c.engine.list_jobs(
        job_type=c.query.get('jobType') or 'BATCH', job_name=c.query.get('jobName', ''),
        limit=_int(c.query, 'limit', 10), offset=_offset(em, c)))


def _show_job(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, c.engine.show_job(c.params['job_name']))


def _create_job(em: Emulator, c: _Call) -> _Reply:
    c.engine.create_job(_obj(c.body, 'job'))
    return _Reply(204)


def _update_job(em: Emulator, c: _Call) -> _Reply:
    c.engine.update_job(c.params['job_name'], _obj(c.body, 'job'))
    return _Reply(204)


def _delete_job(em: Emulator, c: _Call) -> _Reply:
    c.engine.delete_job(c.params['job_name'])
    return _Reply(204)


def _start_job(em: Emulator, c: _Call) -> _Reply:
    c.engine.start_job(c.params['job_name'])
    return _Reply(204)


def _stop_job(em: Emulator, c: _Call) -> _Reply:
    c.engine.stop_job(c.params['job_name'])
    return _Reply(204)


def _run_immediate(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, {'instanceId': c.engine.run_immediate(c.params['job_name'])})


def _show_instance(em: Emulator, c: _Call) -> _Reply:
    try:
        instance = int(c.params['instance_id'])
    except ValueError:
        raise EngineError('DLF.0137', f'The job instance does not exist: {c.params["instance_id"]}.') from None
    return _Reply(200, c.engine.get_instance(c.params['job_name'], instance))


def _job_status(em: Emulator, c: _Call) -> _Reply:
    """Real-time job status (reference §4.5); for a batch job the schedule status [INF]."""
    job = c.engine.show_job(c.params['job_name'])
    status = c.engine.job_status(c.params['job_name'])
    return _Reply(200, {'name': job['name'], 'status': status, 'nodes': [
        {'name': n.get('name'), 'status': status, 'nodeType': n.get('type')}
        for n in job.get('nodes') or [] if isinstance(n, dict)]})


def _export_reply(em: Emulator, c: _Call, data: bytes, filename: str, folder: str) -> _Reply:
    obs_path = c.body.get('obsPath') if isinstance(c.body, dict) else None
    if obs_path:
        if not str(obs_path).startswith('obs://'):
            raise EngineError('DLF.0803', f'The OBS path is invalid: {obs_path}.')
        target = f'{str(obs_path).rstrip("/")}/{folder}_exported/{int(time.time() * 1000)}'
        em.obs[f'{target}/{filename}'] = data
        return _Reply(200, {'obsPath': target})
    return _Reply(200, data, 'application/octet-stream',
                  {'Content-Disposition': f'attachment; filename="{filename}"'})


def _export_job(em: Emulator, c: _Call) -> _Reply:
    name = c.params['job_name']
    depend = _bool(c.body.get('exportDepend') if isinstance(c.body, dict) else None, True)
    return _export_reply(em, c, c.engine.export_job(name, depend), f'DLF_{name}.zip', name)


def _batch_export(em: Emulator, c: _Call) -> _Reply:
    body = _obj(c.body, 'export')
    names = body.get('jobList')
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise EngineError('DLF.3051', 'The request parameter is invalid: jobList must be a list of job names.')
    data = c.engine.export_jobs(names, _bool(body.get('exportDepend'), True))
    return _export_reply(em, c, data, 'jobs.zip', 'jobs')


def _import_jobs(em: Emulator, c: _Call) -> _Reply:
    body = _obj(c.body, 'import')
    path = body.get('path')
    if not isinstance(path, str) or not path.startswith('obs://'):
        raise EngineError('DLF.0803', f'The OBS path is invalid: {path!r}.')
    data = em.obs.get(path)
    if data is None:
        raise EngineError('DLF.0815', 'Fail to read OBS file.')
    policy = body.get('sameNamePolicy') or 'SKIP'
    if policy not in ('SKIP', 'OVERWRITE'):
        raise EngineError('DLF.3051', f'The request parameter is invalid: sameNamePolicy {policy!r}.')
    task = c.engine.import_package(data, 'SKIP' if policy == 'SKIP' else 'OVERWRITE', max_bytes=MAX_OBS_IMPORT_BYTES)
    return _Reply(200, {'taskId': task['id']})


def _show_task(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, c.engine.get_task(c.params['task_id']))


# --- scripts, resources (§5, §6) -------------------------------------------------------------------

def _list_scripts(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, c.engine.list_scripts(script_name=c.query.get('scriptName', ''),
                                             limit=_int(c.query, 'limit', 10), offset=_offset(em, c)))


def _show_script(em: Emulator, c: _Call) -> _Reply:
    try:
        return _Reply(200, c.engine.show_script(c.params['script_name']))
    except EngineError as err:
        if em.script_errors == 'list':  # the shape terraform reads for script GET (§5)
            err.family = 'dayu'
        raise


def _create_script(em: Emulator, c: _Call) -> _Reply:
    c.engine.create_script(_obj(c.body, 'script'))
    return _Reply(204)


def _update_script(em: Emulator, c: _Call) -> _Reply:
    c.engine.update_script(c.params['script_name'], _obj(c.body, 'script'))
    return _Reply(204)


def _delete_script(em: Emulator, c: _Call) -> _Reply:
    c.engine.delete_script(c.params['script_name'])
    return _Reply(204)


def _list_resources(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, c.engine.list_resources(resource_name=c.query.get('resourceName', ''),
                                               limit=_int(c.query, 'limit', 10), offset=_offset(em, c)))


def _show_resource(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, c.engine.show_resource(c.params['resource_id']))


def _create_resource(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, {'resourceId': c.engine.create_resource(_obj(c.body, 'resource'))})


def _update_resource(em: Emulator, c: _Call) -> _Reply:
    c.engine.update_resource(c.params['resource_id'], _obj(c.body, 'resource'))
    return _Reply(204)


def _delete_resource(em: Emulator, c: _Call) -> _Reply:
    c.engine.delete_resource(c.params['resource_id'])
    return _Reply(204)


# --- Management-Center data connections (§7.2) -------------------------------------------------------

def _list_connections(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, c.engine.list_connections(name=c.query.get('name', ''), limit=_int(c.query, 'limit', 10),
                                                 offset=_offset(em, c)))


def _show_connection(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, c.engine.show_connection(c.params['data_connection_id']))


def _create_connection(em: Emulator, c: _Call) -> _Reply:
    vos = _one(c.body, 'data_source_vos', 'dayu')
    ids = [c.engine.create_connection(vo) for vo in vos]
    return _Reply(200, {'data_connection_id': ids[0]})


def _update_connection(em: Emulator, c: _Call) -> _Reply:
    vos = _one(c.body, 'data_source_vos', 'dayu')
    c.engine.update_connection(c.params['data_connection_id'], vos[0])
    return _Reply(204)


def _delete_connection(em: Emulator, c: _Call) -> _Reply:
    c.engine.delete_connection(c.params['data_connection_id'])
    return _Reply(204)


def _validate_connection(em: Emulator, c: _Call) -> _Reply:
    vo = _obj(c.body, 'data connection')
    ok = bool(vo.get('dw_name')) and bool(vo.get('dw_type'))
    return _Reply(200, {'is_success': ok, 'message': '' if ok else 'dw_name and dw_type are required.'})


# --- CDM (§9) ------------------------------------------------------------------------------------------

def _list_clusters(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, c.engine.list_clusters())


def _show_cluster(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, c.engine.show_cluster(c.params['cluster_id']))


def _create_cluster(em: Emulator, c: _Call) -> _Reply:
    """An emulator convenience standing in for buying a cluster: `{"cluster": {"name": ...}}`."""
    cluster = _obj(c.body, 'cluster').get('cluster')
    name = cluster.get('name') if isinstance(cluster, dict) else None
    if not isinstance(name, str) or not name:
        raise EngineError('Cdm.0004', 'The request parameter is invalid: cluster.name is required.')
    id_ = c.engine.create_cluster(name)
    return _Reply(202, {'id': id_, 'name': name})


def _create_link(em: Emulator, c: _Call) -> _Reply:
    links = _one(c.body, 'links', 'cdm')
    cluster_id = c.params['cluster_id']
    if c.query.get('validate') == 'true':
        c.engine.show_cluster(cluster_id)
        return _Reply(200, {'validation-result': [{}]})
    for link in links:
        c.engine.create_link(cluster_id, link)
    return _Reply(200, {'name': links[0].get('name'), 'validation-result': [{}]})


def _show_link(em: Emulator, c: _Call) -> _Reply:
    cluster_id, name = c.params['cluster_id'], c.params['link_name']
    links = c.engine.list_links(cluster_id)['links'] if name == 'all' else [c.engine.show_link(cluster_id, name)]
    return _Reply(200, {'links': [encode_cdm_values(link) for link in links]})


def _update_link(em: Emulator, c: _Call) -> _Reply:
    c.engine.update_link(c.params['cluster_id'], c.params['link_name'], _one(c.body, 'links', 'cdm')[0])
    return _Reply(200, {'validation-result': []})


def _delete_link(em: Emulator, c: _Call) -> _Reply:
    c.engine.delete_link(c.params['cluster_id'], c.params['link_name'])
    return _Reply(200, {})


def _create_cdm_job(em: Emulator, c: _Call) -> _Reply:
    jobs = _one(c.body, 'jobs', 'cdm')
    for job in jobs:
        c.engine.create_cdm_job(c.params['cluster_id'], job)
    return _Reply(200, {'name': jobs[0].get('name'), 'validation-result': []})


def _show_cdm_job(em: Emulator, c: _Call) -> _Reply:
    cluster_id, name = c.params['cluster_id'], c.params['job_name']
    if name == 'all':
        listing = c.engine.list_cdm_jobs(
            cluster_id, filter=c.query.get('filter', ''), job_type=c.query.get('jobType') or 'NORMAL_JOB',
            page_no=_int(c.query, 'page_no', 1), page_size=_int(c.query, 'page_size', 10))
        listing['jobs'] = [encode_cdm_values(job) for job in listing['jobs']]
        return _Reply(200, listing)
    job = encode_cdm_values(c.engine.show_cdm_job(cluster_id, name))
    return _Reply(200, {'total': 0, 'jobs': [job], 'page_no': 1, 'page_size': 10})  # total 0: single query (§9.1)


def _update_cdm_job(em: Emulator, c: _Call) -> _Reply:
    c.engine.update_cdm_job(c.params['cluster_id'], c.params['job_name'], _one(c.body, 'jobs', 'cdm')[0])
    return _Reply(200, {'validation-result': []})


def _delete_cdm_job(em: Emulator, c: _Call) -> _Reply:
    c.engine.delete_cdm_job(c.params['cluster_id'], c.params['job_name'])
    return _Reply(200, {})


def _start_cdm_job(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, c.engine.start_cdm_job(c.params['cluster_id'], c.params['job_name']))


def _stop_cdm_job(em: Emulator, c: _Call) -> _Reply:
    c.engine.stop_cdm_job(c.params['cluster_id'], c.params['job_name'])
    return _Reply(200, {'validation-result': []})


def _cdm_job_status(em: Emulator, c: _Call) -> _Reply:
    return _Reply(200, c.engine.cdm_job_status(c.params['cluster_id'], c.params['job_name']))


def _submissions(em: Emulator, c: _Call) -> _Reply:
    name = c.query.get('jname')
    if not name:
        raise EngineError('Cdm.0004', 'The request parameter is invalid: jname is required.')
    subs = c.engine.cdm_job_status(c.params['cluster_id'], name)['submissions']
    return _Reply(200, {'submissions': subs, 'total': len(subs), 'page_no': 1, 'page_size': 10})


# --- emulator-only --------------------------------------------------------------------------------------

def _put_obs(em: Emulator, c: _Call) -> _Reply:
    em.obs[f'obs://{c.params["bucket"]}/{c.params["key"]}'] = c.raw
    return _Reply(204)


# Route table: (method, path pattern, handler, family). `{x}` matches one path segment
# (percent-decoded); `{key*}` the rest of the path. Families: dlf, dayu, cdm (which space and
# which error shape). Literal routes come before parameterised ones of the same shape.
_ROUTES: list[tuple[str, str, Handler, str]] = [
    ('GET', '/v1/{pid}/jobs', _list_jobs, 'dlf'),
    ('POST', '/v1/{pid}/jobs', _create_job, 'dlf'),
    ('POST', '/v1/{pid}/jobs/batch-export', _batch_export, 'dlf'),
    ('POST', '/v1/{pid}/jobs/import', _import_jobs, 'dlf'),
    ('GET', '/v1/{pid}/jobs/{job_name}', _show_job, 'dlf'),
    ('PUT', '/v1/{pid}/jobs/{job_name}', _update_job, 'dlf'),
    ('DELETE', '/v1/{pid}/jobs/{job_name}', _delete_job, 'dlf'),
    ('POST', '/v1/{pid}/jobs/{job_name}/start', _start_job, 'dlf'),
    ('POST', '/v1/{pid}/jobs/{job_name}/stop', _stop_job, 'dlf'),
    ('POST', '/v1/{pid}/jobs/{job_name}/run-immediate', _run_immediate, 'dlf'),
    ('POST', '/v1/{pid}/jobs/{job_name}/export', _export_job, 'dlf'),
    ('GET', '/v1/{pid}/jobs/{job_name}/status', _job_status, 'dlf'),
    ('GET', '/v1/{pid}/jobs/{job_name}/instances/{instance_id}', _show_instance, 'dlf'),
    ('GET', '/v1/{pid}/system-tasks/{task_id}', _show_task, 'dlf'),
    ('GET', '/v1/{pid}/scripts', _list_scripts, 'dlf'),
    ('POST', '/v1/{pid}/scripts', _create_script, 'dlf'),
    ('GET', '/v1/{pid}/scripts/{script_name}', _show_script, 'dlf'),
    ('PUT', '/v1/{pid}/scripts/{script_name}', _update_script, 'dlf'),
    ('DELETE', '/v1/{pid}/scripts/{script_name}', _delete_script, 'dlf'),
    ('GET', '/v1/{pid}/resources', _list_resources, 'dlf'),
    ('POST', '/v1/{pid}/resources', _create_resource, 'dlf'),
    ('GET', '/v1/{pid}/resources/{resource_id}', _show_resource, 'dlf'),
    ('PUT', '/v1/{pid}/resources/{resource_id}', _update_resource, 'dlf'),
    ('DELETE', '/v1/{pid}/resources/{resource_id}', _delete_resource, 'dlf'),
    ('GET', '/v1/{pid}/data-connections', _list_connections, 'dayu'),
    ('POST', '/v1/{pid}/data-connections', _create_connection, 'dayu'),
    ('POST', '/v1/{pid}/data-connections/validation', _validate_connection, 'dayu'),
    ('GET', '/v1/{pid}/data-connections/{data_connection_id}', _show_connection, 'dayu'),
    ('PUT', '/v1/{pid}/data-connections/{data_connection_id}', _update_connection, 'dayu'),
    ('DELETE', '/v1/{pid}/data-connections/{data_connection_id}', _delete_connection, 'dayu'),
    ('GET', '/v1.1/{pid}/clusters', _list_clusters, 'cdm'),
    ('POST', '/v1.1/{pid}/clusters', _create_cluster, 'cdm'),
    ('GET', '/v1.1/{pid}/clusters/{cluster_id}', _show_cluster, 'cdm'),
    ('POST', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link', _create_link, 'cdm'),
    ('GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link/{link_name}', _show_link, 'cdm'),
    ('PUT', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link/{link_name}', _update_link, 'cdm'),
    ('DELETE', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link/{link_name}', _delete_link, 'cdm'),
    ('POST', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job', _create_cdm_job, 'cdm'),
    ('GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/submissions', _submissions, 'cdm'),
    ('GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}', _show_cdm_job, 'cdm'),
    ('PUT', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}', _update_cdm_job, 'cdm'),
    ('DELETE', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}', _delete_cdm_job, 'cdm'),
    ('PUT', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/start', _start_cdm_job, 'cdm'),
    ('PUT', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/stop', _stop_cdm_job, 'cdm'),
    ('GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/status', _cdm_job_status, 'cdm'),
    ('PUT', '/_emulator/obs/{bucket}/{key*}', _put_obs, 'dlf'),
]
_COMPILED = [(method, pattern.strip('/').split('/'), handler, family) for method, pattern, handler, family in _ROUTES]


def match_route(method: str, raw_path: str) -> tuple[Handler, dict[str, str], str, str] | None:
    """(handler, path parameters, family, route template) for a request, or None.

    Matches on the raw path's segments, each percent-decoded on its own, so that a name
    holding `%2F` stays one segment.
    """
    segments = [unquote(s) for s in raw_path.strip('/').split('/')]
    for route_method, pattern, handler, family in _COMPILED:
        if route_method != method:
            continue
        params: dict[str, str] = {}
        for i, part in enumerate(pattern):
            if part.endswith('*}'):
                if i >= len(segments):
                    break
                params[part[1:-2]] = '/'.join(segments[i:])
                return handler, params, family, '/' + '/'.join(pattern)
            if i >= len(segments):
                break
            if part.startswith('{'):
                if not segments[i]:
                    break
                params[part[1:-1]] = segments[i]
            elif part != segments[i]:
                break
        else:
            if len(pattern) == len(segments):
                return handler, params, family, '/' + '/'.join(pattern)
    return None


# --- the emulator -----------------------------------------------------------------------------------------

class _Bucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self.clock = rate, max(1, burst or math.ceil(rate)), clock
        self.tokens = float(self.burst)
        self.last = clock()
        self.lock = threading.Lock()

    def take(self) -> float:
        """0 if a token was taken, else the seconds until one will be there."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


class Emulator:
    """The emulated service: an ASGI app (`app`) over an engine database at `db_path`.

    `credentials` maps AK → SK; `tokens` are accepted `X-Auth-Token`s. `clusters` (name → id,
    or None for a generated one) are created in every project on its first request, as CDM
    clusters bought beforehand would be. `script_errors='list'` answers script GET errors in
    the `{"errors":[...]}` shape; `paging='pages'` reads list `offset`s as page numbers. `stats`
    counts requests, faults and auth failures.
    """

    def __init__(
            self, db_path: str | Path, *, credentials: Mapping[str, str] | None = None,
            tokens: set[str] | frozenset[str] = frozenset(), clusters: Mapping[str, str | None] | None = None,
            faults: Faults | None = None, script_errors: str = 'flat', paging: str = 'records',
            clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
            **engine_options: Any,
    ) -> None:
        from starlette.applications import Starlette
        from starlette.routing import Route

        self.engine = Engine(db_path, **engine_options)
        self.credentials = dict(credentials or {})
        self.tokens = frozenset(tokens)
        self.clusters = dict(clusters or {})
        self.script_errors = script_errors
        self.paging = paging
        self.clock = clock
        self.obs: dict[str, bytes] = {}
        self.stats: Counter[str] = Counter()
        self._seeded: set[str] = set()
        self._lock = threading.Lock()
        self.faults = faults or Faults()
        self.app = Starlette(routes=[Route('/{path:path}', self._endpoint,
                                           methods=['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'])])

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        """Change the injected faults (takes effect on the next request)."""
        with self._lock:
            self._faults = faults
            self._rng = random.Random(faults.seed)
            self._bucket = _Bucket(faults.throttle_rps, faults.throttle_burst, time.monotonic) \
                if faults.throttle_rps > 0 else None
            self._faults_injected = 0

    def close(self) -> None:
        self.engine.close()

    # --- the gateway -------------------------------------------------------------------------

    def _authenticate(self, method: str, raw_path: str, query: str, headers: Mapping[str, str], body: bytes) -> str:
        token = headers.get('x-auth-token')
        if token is not None:
            if token in self.tokens:
                return TOKEN_USER
            raise _GatewayError(401, 'APIGW.0301', 'Incorrect IAM authentication information: decrypt token fail')
        if 'authorization' not in headers:
            raise _GatewayError(401, 'APIGW.0301', 'Incorrect IAM authentication information: '
                                                   'no Authorization or X-Auth-Token header')
        try:
            return signer.verify(method=method, path=raw_path, query=query, headers=headers, body=body,
                                 secret_for=self.credentials.get, now=self.clock())
        except signer.SignatureError as exc:
            raise _GatewayError(401, 'APIGW.0301', f'Incorrect IAM authentication information: {exc}') from None

    def _throttle(self) -> None:
        bucket = self._bucket
        if bucket is None:
            return
        wait = bucket.take()
        if wait > 0:
            self.stats['throttled'] += 1
            raise _GatewayError(
                429, 'APIG.0308',
                f'The throttling threshold has been reached: policy user over ratelimit,limit:'
                f'{self.faults.throttle_rps:g},time:1 second',
                {'Retry-After': str(max(1, math.ceil(wait)))})

    def _fault(self) -> str:
        """'' (none), or one of '5xx-before', '5xx-after', 'drop-before', 'drop-after'."""
        with self._lock:
            faults = self._faults
            if faults.max_faults is not None and self._faults_injected >= faults.max_faults:
                return ''
            roll = self._rng.random()
            when = faults.phase if faults.phase != 'both' else 'before' if self._rng.random() < 0.5 else 'after'
            if roll < faults.fault_rate:
                kind = '5xx'
            elif roll < faults.fault_rate + faults.drop_rate:
                kind = 'drop'
            else:
                return ''
            self._faults_injected += 1
        self.stats[f'{kind}-{when}'] += 1
        return f'{kind}-{when}'

    def _seed(self, project: str) -> None:
        if project in self._seeded or not self.clusters:
            return
        with self._lock:
            if project in self._seeded:
                return
            engine = self.engine.scoped(project, 'default')
            existing = {c['name'] for c in engine.list_clusters()['clusters']}
            for name, id_ in self.clusters.items():
                if name not in existing:
                    engine.create_cluster(name, id_ or str(uuid.uuid5(uuid.NAMESPACE_URL, f'{project}/{name}')))
            self._seeded.add(project)

    async def _endpoint(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import Response

        request_id = uuid.uuid4().hex
        self.stats['requests'] += 1

        def respond(reply: _Reply) -> Any:
            headers = {'X-Request-Id': request_id, **reply.headers}
            if reply.status == 204 or reply.body is None:
                return Response(status_code=reply.status, headers=headers)
            content = reply.body if isinstance(reply.body, bytes) else \
                json.dumps(reply.body, ensure_ascii=False).encode('utf-8')
            return Response(content, status_code=reply.status, media_type=reply.content_type, headers=headers)

        def gateway(err: _GatewayError) -> Any:
            return respond(_Reply(err.status, {'error_code': err.code, 'error_msg': err.message,
                                               'request_id': request_id}, headers=err.headers))

        faults = self.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        raw_path = request.scope.get('raw_path', b'').decode('latin-1').split('?', 1)[0] or request.url.path
        query = request.scope.get('query_string', b'').decode('latin-1')
        # Header values arrive as latin-1 text; the signer saw them as UTF-8 (the SDK sends UTF-8).
        headers = {k.lower(): v.encode('latin-1').decode('utf-8', 'replace') for k, v in request.headers.items()}
        try:
            length = int(headers.get('content-length') or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            return gateway(_GatewayError(413, 'APIGW.0201', 'Request entity too large'))
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return gateway(_GatewayError(413, 'APIGW.0201', 'Request entity too large'))
        try:
            self._throttle()
            user = self._authenticate(request.method, raw_path, query, headers, body)
        except _GatewayError as err:
            if err.status == 401:
                self.stats['unauthorized'] += 1
            return gateway(err)
        matched = match_route(request.method, raw_path)
        if matched is None:
            return gateway(_GatewayError(404, 'APIGW.0101', 'The API does not exist or has not been published in'
                                                            ' the environment'))
        handler, params, family, _template = matched
        fault = self._fault()
        if fault == '5xx-before':
            return gateway(_GatewayError(503, 'APIGW.0201', 'Backend unavailable'))
        if fault == 'drop-before':
            return _drop()
        try:
            parsed: Any = json.loads(body.decode('utf-8')) if body and handler is not _put_obs else None
        except (UnicodeDecodeError, ValueError):
            return respond(_error_reply(EngineError('DLF.3051', 'The request parameter is invalid: the body is'
                                                                ' not JSON.', family=_family(family))))
        project = params.get('pid', '')
        workspace = 'default' if family == 'cdm' else headers.get('workspace') or 'default'
        call = _Call(self.engine.scoped(project, workspace, user=user), params,
                     dict(signer.parse_query(query)), parsed, body, headers)
        try:
            if family == 'cdm':
                await run_in_threadpool(self._seed, project)
            reply = await run_in_threadpool(handler, self, call)
        except EngineError as err:
            if family == 'cdm' and err.family != 'cdm':  # a parameter check shared with DLF
                err = EngineError('Cdm.0004', err.message, family='cdm')
            reply = _error_reply(err)
        except WorkspaceError as err:  # a package problem and the like: a bad request
            reply = _error_reply(EngineError(err.code or 'DLF.3051', err.message, family=_family(family)))
        if fault == '5xx-after':
            return gateway(_GatewayError(504, 'APIGW.0201', 'Backend timeout'))
        if fault == 'drop-after':
            return _drop()
        return respond(reply)


def _family(family: str) -> Any:
    return family if family in ('dlf', 'dayu', 'cdm') else 'dlf'


def _error_reply(err: EngineError) -> _Reply:
    """The service's error body for its family (reference §3.1)."""
    if err.family == 'cdm':
        body: Any = {'code': err.code, 'errCode': err.code, 'message': err.message, 'externalMessage': err.message}
    elif err.family == 'dayu':
        body = {'errors': [{'error_code': err.code, 'error_msg': err.message}]}
    else:
        body = {'error_code': err.code, 'error_msg': err.message}
    return _Reply(err.status or 400, body)


def _drop() -> Any:
    """A response that starts and then loses its connection (uvicorn closes it on the exception)."""
    async def app(scope: Any, receive: Any, send: Callable[[Any], Awaitable[None]]) -> None:
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'content-type', b'application/json'), (b'content-length', b'1024')]})
        await send({'type': 'http.response.body', 'body': b'{"', 'more_body': True})
        raise _Dropped('connection dropped on purpose (emulator fault injection)')
    return app


# --- running it ----------------------------------------------------------------------------------------

class EmulatorServer:
    """Serve an `Emulator` with uvicorn on 127.0.0.1 in a background thread.

    `port=0` picks a free port; `url` is known once `start()` returns. Use as a context
    manager, or call `stop()`.
    """

    def __init__(self, emulator: Emulator, *, port: int = 0, log_level: str = 'warning') -> None:
        self.emulator = emulator
        # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only when the
        # proto says TCP, and without it every answer with a body waits ~40 ms for a delayed ACK.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(('127.0.0.1', port))
        self._sock.listen(1024)  # from now on connections queue, even before uvicorn serves them
        self.port: int = self._sock.getsockname()[1]
        self.url = f'http://127.0.0.1:{self.port}'
        self._log_level = log_level
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        import uvicorn

        logging.getLogger('uvicorn.error').addFilter(_DropFilter())
        config = uvicorn.Config(self.emulator.app, log_level=self._log_level, lifespan='off', access_log=False,
                                timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={'sockets': [self._sock]},
                                        name=f'jobsync-emulator-{self.port}', daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f'the emulator did not start on {self.url}')
            time.sleep(0.01)
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    def run_forever(self) -> None:
        """Serve in this thread until interrupted (what `jobsync emulator` does)."""
        import uvicorn

        logging.getLogger('uvicorn.error').addFilter(_DropFilter())
        config = uvicorn.Config(self.emulator.app, log_level=self._log_level, lifespan='off', access_log=False)
        self._server = uvicorn.Server(config)
        self._server.run(sockets=[self._sock])

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ['Emulator', 'EmulatorServer', 'Faults', 'encode_cdm_values', 'match_route']
