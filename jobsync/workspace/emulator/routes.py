"""The emulator's route handlers: one per route of `jobsync.workspace.routes`, bound by its name.

A handler gets the scoped engine, the path parameters, the query and the parsed body (`Call`) and
answers a `Reply` (status, JSON-able body or bytes); an `EngineError` it raises becomes the
service's error body in the gateway. Fidelity choices (reference §3.3, §5, §9.3): CDM string input
values are URL-encoded on GET; script GET errors can use the `{"errors":[...]}` shape
(`script_errors='list'`); list `offset`s are records, or page numbers with `paging='pages'`;
`jobs/import` reads zips from a fake OBS (`obs://bucket/key`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from jobsync.model import Spec
from jobsync.workspace.emulator.shapes import SHOW_JOB, SYSTEM_TASK, shape
from jobsync.workspace.routes import ROUTES, Route
from jobsync.workspace.service import Engine, EngineError

if TYPE_CHECKING:
    from jobsync.workspace.emulator.gateway import Gateway

MAX_OBS_IMPORT_BYTES = 10 * 1024 * 1024  # a job import file from OBS (reference §4.7)


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or bytes
    content_type: str = 'application/json;charset=UTF-8'
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """What a handler gets: the scoped engine, path parameters, query, JSON body, raw body."""

    engine: Engine
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    raw: bytes
    headers: Mapping[str, str]


Handler = Callable[['Gateway', Call], Reply]


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

def _offset(em: Gateway, c: Call) -> int:
    """The record offset a list call asks for. With `paging='pages'` the emulator reads `offset`
    as a page number, as the docs describe it (reference §3.3, §13.1) [INF: off by default]."""
    offset = _int(c.query, 'offset', 0)
    return offset * _int(c.query, 'limit', 10) if em.paging == 'pages' else offset


def _list_jobs(em: Gateway, c: Call) -> Reply:
    return Reply(200, c.engine.list_jobs(
        job_type=c.query.get('jobType') or 'BATCH', job_name=c.query.get('jobName', ''),
        limit=_int(c.query, 'limit', 10), offset=_offset(em, c)))


def _show_job(em: Gateway, c: Call) -> Reply:
    version = c.query.get('version')
    if version is not None and not version.isdigit():
        raise EngineError('DLF.3051', f'The request parameter is invalid: version {version!r}.')
    return Reply(200, shape(c.engine.show_job(c.params['job_name'], int(version) if version else None), SHOW_JOB))


def _create_job(em: Gateway, c: Call) -> Reply:
    c.engine.create_job(_obj(c.body, 'job'))
    return Reply(204)


def _update_job(em: Gateway, c: Call) -> Reply:
    c.engine.update_job(c.params['job_name'], _obj(c.body, 'job'))
    return Reply(204)


def _delete_job(em: Gateway, c: Call) -> Reply:
    c.engine.delete_job(c.params['job_name'], c.body if isinstance(c.body, dict) else None)
    return Reply(204)


def _start_job(em: Gateway, c: Call) -> Reply:
    c.engine.start_job(c.params['job_name'])
    return Reply(204)


def _stop_job(em: Gateway, c: Call) -> Reply:
    c.engine.stop_job(c.params['job_name'])
    return Reply(204)


def _run_immediate(em: Gateway, c: Call) -> Reply:
    return Reply(200, {'instanceId': c.engine.run_immediate(c.params['job_name'])})


def _show_instance(em: Gateway, c: Call) -> Reply:
    try:
        instance = int(c.params['instance_id'])
    except ValueError:
        raise EngineError('DLF.0137', f'The job instance does not exist: {c.params["instance_id"]}.') from None
    return Reply(200, c.engine.get_instance(c.params['job_name'], instance))


def _job_status(em: Gateway, c: Call) -> Reply:
    """Real-time job status (reference §4.5); for a batch job the schedule status [INF]."""
    job = c.engine.show_job(c.params['job_name'])
    status = c.engine.job_status(c.params['job_name'])
    return Reply(200, {'name': job['name'], 'status': status, 'nodes': [
        {'name': n.get('name'), 'status': status, 'nodeType': n.get('type')}
        for n in job.get('nodes') or [] if isinstance(n, dict)]})


def _export_reply(em: Gateway, c: Call, data: bytes, filename: str, folder: str) -> Reply:
    obs_path = c.body.get('obsPath') if isinstance(c.body, dict) else None
    if obs_path:
        if not str(obs_path).startswith('obs://'):
            raise EngineError('DLF.0803', f'The OBS path is invalid: {obs_path}.')
        target = f'{str(obs_path).rstrip("/")}/{folder}_exported/{int(time.time() * 1000)}'
        em.obs[f'{target}/{filename}'] = data
        return Reply(200, {'obsPath': target})
    return Reply(200, data, 'application/octet-stream',
                  {'Content-Disposition': f'attachment; filename="{filename}"'})


def _export_job(em: Gateway, c: Call) -> Reply:
    name = c.params['job_name']
    depend = _bool(c.body.get('exportDepend') if isinstance(c.body, dict) else None, True)
    return _export_reply(em, c, c.engine.export_job(name, depend), f'DLF_{name}.zip', name)


def _batch_export(em: Gateway, c: Call) -> Reply:
    body = _obj(c.body, 'export')
    names = body.get('jobList')
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise EngineError('DLF.3051', 'The request parameter is invalid: jobList must be a list of job names.')
    data = c.engine.export_jobs(names, _bool(body.get('exportDepend'), True))
    return _export_reply(em, c, data, 'jobs.zip', 'jobs')


def _import_jobs(em: Gateway, c: Call) -> Reply:
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
    c.engine.require_review('import', path, body, create=True)  # ImportFileReq: targetStatus, approvers
    task = c.engine.import_package(data, 'SKIP' if policy == 'SKIP' else 'OVERWRITE', max_bytes=MAX_OBS_IMPORT_BYTES)
    return Reply(200, {'taskId': task['id']})


def _show_task(em: Gateway, c: Call) -> Reply:
    return Reply(200, shape(c.engine.get_task(c.params['task_id']), SYSTEM_TASK))


# --- scripts, resources (§5, §6) -------------------------------------------------------------------

def _list_scripts(em: Gateway, c: Call) -> Reply:
    return Reply(200, c.engine.list_scripts(script_name=c.query.get('scriptName', ''),
                                             limit=_int(c.query, 'limit', 10), offset=_offset(em, c)))


def _show_script(em: Gateway, c: Call) -> Reply:
    try:
        return Reply(200, c.engine.show_script(c.params['script_name']))
    except EngineError as err:
        if em.script_errors == 'list':  # the shape terraform reads for script GET (§5)
            err.family = 'dayu'
        raise


def _create_script(em: Gateway, c: Call) -> Reply:
    c.engine.create_script(_obj(c.body, 'script'))
    return Reply(204)


def _update_script(em: Gateway, c: Call) -> Reply:
    c.engine.update_script(c.params['script_name'], _obj(c.body, 'script'))
    return Reply(204)


def _delete_script(em: Gateway, c: Call) -> Reply:
    c.engine.delete_script(c.params['script_name'], c.body if isinstance(c.body, dict) else None)
    return Reply(204)


def _list_resources(em: Gateway, c: Call) -> Reply:
    return Reply(200, c.engine.list_resources(resource_name=c.query.get('resourceName', ''),
                                               limit=_int(c.query, 'limit', 10), offset=_offset(em, c)))


def _show_resource(em: Gateway, c: Call) -> Reply:
    return Reply(200, c.engine.show_resource(c.params['resource_id']))


def _create_resource(em: Gateway, c: Call) -> Reply:
    return Reply(200, {'resourceId': c.engine.create_resource(_obj(c.body, 'resource'))})


def _update_resource(em: Gateway, c: Call) -> Reply:
    c.engine.update_resource(c.params['resource_id'], _obj(c.body, 'resource'))
    return Reply(204)


def _delete_resource(em: Gateway, c: Call) -> Reply:
    c.engine.delete_resource(c.params['resource_id'])
    return Reply(204)


# --- Management-Center data connections (§7.2) -------------------------------------------------------

def _list_connections(em: Gateway, c: Call) -> Reply:
    return Reply(200, c.engine.list_connections(name=c.query.get('name', ''), limit=_int(c.query, 'limit', 10),
                                                 offset=_offset(em, c)))


def _show_connection(em: Gateway, c: Call) -> Reply:
    return Reply(200, c.engine.show_connection(c.params['data_connection_id']))


def _create_connection(em: Gateway, c: Call) -> Reply:
    vos = _one(c.body, 'data_source_vos', 'dayu')
    ids = [c.engine.create_connection(vo) for vo in vos]
    return Reply(200, {'data_connection_id': ids[0]})


def _update_connection(em: Gateway, c: Call) -> Reply:
    vos = _one(c.body, 'data_source_vos', 'dayu')
    c.engine.update_connection(c.params['data_connection_id'], vos[0])
    return Reply(204)


def _delete_connection(em: Gateway, c: Call) -> Reply:
    c.engine.delete_connection(c.params['data_connection_id'])
    return Reply(204)


def _validate_connection(em: Gateway, c: Call) -> Reply:
    vo = _obj(c.body, 'data connection')
    ok = bool(vo.get('dw_name')) and bool(vo.get('dw_type'))
    return Reply(200, {'is_success': ok, 'message': '' if ok else 'dw_name and dw_type are required.'})


# --- CDM (§9) ------------------------------------------------------------------------------------------

def _list_clusters(em: Gateway, c: Call) -> Reply:
    return Reply(200, c.engine.list_clusters())


def _show_cluster(em: Gateway, c: Call) -> Reply:
    return Reply(200, c.engine.show_cluster(c.params['cluster_id']))


def _create_cluster(em: Gateway, c: Call) -> Reply:
    """An emulator convenience standing in for buying a cluster: `{"cluster": {"name": ...}}`."""
    cluster = _obj(c.body, 'cluster').get('cluster')
    name = cluster.get('name') if isinstance(cluster, dict) else None
    if not isinstance(name, str) or not name:
        raise EngineError('Cdm.0004', 'The request parameter is invalid: cluster.name is required.')
    id_ = c.engine.create_cluster(name)
    return Reply(202, {'id': id_, 'name': name})


def _create_link(em: Gateway, c: Call) -> Reply:
    """`{"links": [...]}`: every link of the list, in order ([SDK] cdm `CdmCreateAndUpdateLinkReq.links:
    list[Links]`; [DOC] api-cdm CreateLink "Array of Links objects", no maximum given). Not
    transactional [INF: no document says either way]: a refused link stops the request, and the
    links before it stay created; the client never relies on it (after a refusal it lists the
    cluster, client.py `_create_pack`). The answer names one link, the first ([SDK]
    `CreateLinkResponse.name: str`; [DOC] example 200 `{"name": "rdb_link", "validation-result": [{}]}`;
    which name a list gets is [INF])."""
    links = _one(c.body, 'links', 'cdm')
    cluster_id = c.params['cluster_id']
    if c.query.get('validate') == 'true':
        c.engine.show_cluster(cluster_id)
        return Reply(200, {'validation-result': [{}]})
    for link in links:
        c.engine.create_link(cluster_id, link)
    return Reply(200, {'name': links[0].get('name'), 'validation-result': [{}]})


def _list_links(em: Gateway, c: Call) -> Reply:
    links = c.engine.list_links(c.params['cluster_id'])['links']
    return Reply(200, {'links': [encode_cdm_values(link) for link in links]})


def _show_link(em: Gateway, c: Call) -> Reply:
    link = c.engine.show_link(c.params['cluster_id'], c.params['link_name'])
    return Reply(200, {'links': [encode_cdm_values(link)]})


def _update_link(em: Gateway, c: Call) -> Reply:
    c.engine.update_link(c.params['cluster_id'], c.params['link_name'], _one(c.body, 'links', 'cdm')[0])
    return Reply(200, {'validation-result': []})


def _delete_link(em: Gateway, c: Call) -> Reply:
    c.engine.delete_link(c.params['cluster_id'], c.params['link_name'])
    return Reply(200, {})


def _create_cdm_job(em: Gateway, c: Call) -> Reply:
    """`{"jobs": [...]}`: every job of the list, in order ([SDK] cdm `CdmCreateJobJsonReq.jobs:
    list[Job]`; [DOC] api-cdm CreateJob "Array of Job objects", no maximum given). Not
    transactional [INF, as for links]: a refused job (its link missing, its name taken) stops the
    request with its error, and the jobs before it stay created. The answer names one job, the
    first ([SDK] `CreateJobResponse{name: str, validation-result: list[JobValidationResult]}`, an
    empty list on success; [DOC] example `{"name": "mysql2hive"}`; which name a list gets is [INF])."""
    jobs = _one(c.body, 'jobs', 'cdm')
    for job in jobs:
        c.engine.create_cdm_job(c.params['cluster_id'], job)
    return Reply(200, {'name': jobs[0].get('name'), 'validation-result': []})


def _list_cdm_jobs(em: Gateway, c: Call) -> Reply:
    listing = c.engine.list_cdm_jobs(
        c.params['cluster_id'], filter=c.query.get('filter', ''), job_type=c.query.get('jobType') or 'NORMAL_JOB',
        page_no=_int(c.query, 'page_no', 1), page_size=_int(c.query, 'page_size', 10))
    listing['jobs'] = [encode_cdm_values(job) for job in listing['jobs']]
    return Reply(200, listing)


def _show_cdm_job(em: Gateway, c: Call) -> Reply:
    job = encode_cdm_values(c.engine.show_cdm_job(c.params['cluster_id'], c.params['job_name']))
    return Reply(200, {'total': 0, 'jobs': [job], 'page_no': 1, 'page_size': 10})  # total 0: single query (§9.1)


def _update_cdm_job(em: Gateway, c: Call) -> Reply:
    c.engine.update_cdm_job(c.params['cluster_id'], c.params['job_name'], _one(c.body, 'jobs', 'cdm')[0])
    return Reply(200, {'validation-result': []})


def _delete_cdm_job(em: Gateway, c: Call) -> Reply:
    c.engine.delete_cdm_job(c.params['cluster_id'], c.params['job_name'])
    return Reply(200, {})


def _start_cdm_job(em: Gateway, c: Call) -> Reply:
    return Reply(200, c.engine.start_cdm_job(c.params['cluster_id'], c.params['job_name']))


def _stop_cdm_job(em: Gateway, c: Call) -> Reply:
    c.engine.stop_cdm_job(c.params['cluster_id'], c.params['job_name'])
    return Reply(200, {'validation-result': []})


def _cdm_job_status(em: Gateway, c: Call) -> Reply:
    return Reply(200, c.engine.cdm_job_status(c.params['cluster_id'], c.params['job_name']))


def _submissions(em: Gateway, c: Call) -> Reply:
    name = c.query.get('jname')
    if not name:
        raise EngineError('Cdm.0004', 'The request parameter is invalid: jname is required.')
    subs = c.engine.cdm_job_status(c.params['cluster_id'], name)['submissions']
    return Reply(200, {'submissions': subs, 'total': len(subs), 'page_no': 1, 'page_size': 10})


# --- instances and workspaces (notes/issue11-facts.md §4): the SDK's models, one instance ------------------

EMULATOR_INSTANCE_ID = 'emulator-instance'


def _list_instances(em: Gateway, c: Call) -> Reply:
    # ListDataArtsStudioInstancesResponse{count, commodity_orders[ApigCommodityOrder]} [SDK]
    order = {'resource_id': EMULATOR_INSTANCE_ID, 'resource_name': 'dataarts-emulator',
             'project_id': c.params['pid']}
    return Reply(200, {'count': 1, 'commodity_orders': [order]})


def _list_workspaces(em: Gateway, c: Call) -> Reply:
    # ListManagerWorkSpacesResponse{count, total_page, data[Workspacebody]}; is_default 1 = the default [SDK]
    if c.params['instance_id'] != EMULATOR_INSTANCE_ID:
        raise EngineError('DAYU.4403', f'The instance {c.params["instance_id"]} does not exist.', family='dayu')
    spaces = em.workspaces
    limit, offset = _int(c.query, 'limit', 10), _int(c.query, 'offset', 0)
    data = [{'id': id_, 'name': name, 'is_default': 1 if id_ == 'default' else 0,
             'instance_id': EMULATOR_INSTANCE_ID, 'project_id': c.params['pid']}
            for id_, name in sorted(spaces.items())]
    pages = max(1, -(-len(data) // max(1, limit)))
    return Reply(200, {'count': len(data), 'total_page': pages, 'data': data[offset:offset + limit]})


# --- the emulator's own --------------------------------------------------------------------------------------

def _put_obs(em: Gateway, c: Call) -> Reply:
    em.obs[f'obs://{c.params["bucket"]}/{c.params["key"]}'] = c.raw
    return Reply(204)


def _admin_settings(em: Gateway, c: Call) -> Reply:
    """Set what a workspace administrator sets in the console: `{"review": bool, "locked_tags": [..]}`
    (either may be left out); answers the settings."""
    body = _obj(c.body, 'settings')
    review, tags = body.get('review'), body.get('locked_tags')
    if (review is not None and not isinstance(review, bool)) or (
            tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags))):
        raise EngineError('DLF.3051', 'The request parameter is invalid: review is a boolean, '
                                      'locked_tags a list of strings.')
    c.engine.configure(review=review, locked_tags=tags)
    return Reply(200, c.engine.settings())


def _admin_show_settings(em: Gateway, c: Call) -> Reply:
    return Reply(200, c.engine.settings())


def _admin_lock_script(em: Gateway, c: Call) -> Reply:
    """Lock a script for a named user (`{"user": "alice"}`), as opening it for edit in the console does."""
    user = _obj(c.body, 'lock').get('user')
    if not isinstance(user, str) or not user:
        raise EngineError('DLF.3051', 'The request parameter is invalid: user names who holds the lock.')
    c.engine.lock_script(c.params['script_name'], user)
    return Reply(204)


def _admin_unlock_script(em: Gateway, c: Call) -> Reply:
    c.engine.unlock_script(c.params['script_name'])
    return Reply(204)


# Every route of the table, by name. A route without a handler would be a 404 nobody meant.
HANDLERS: dict[str, Handler] = {
    'list_jobs': _list_jobs, 'create_job': _create_job, 'export_jobs': _batch_export, 'import_jobs': _import_jobs,
    'show_job': _show_job, 'update_job': _update_job, 'delete_job': _delete_job, 'start_job': _start_job,
    'stop_job': _stop_job, 'run_once': _run_immediate, 'export_job': _export_job, 'job_status': _job_status,
    'show_instance': _show_instance, 'show_task': _show_task,
    'list_scripts': _list_scripts, 'create_script': _create_script, 'show_script': _show_script,
    'update_script': _update_script, 'delete_script': _delete_script,
    'list_resources': _list_resources, 'create_resource': _create_resource, 'show_resource': _show_resource,
    'update_resource': _update_resource, 'delete_resource': _delete_resource,
    'list_connections': _list_connections, 'create_connection': _create_connection,
    'validate_connection': _validate_connection, 'show_connection': _show_connection,
    'update_connection': _update_connection, 'delete_connection': _delete_connection,
    'list_clusters': _list_clusters, 'create_cluster': _create_cluster, 'show_cluster': _show_cluster,
    'create_link': _create_link, 'list_links': _list_links, 'show_link': _show_link, 'update_link': _update_link,
    'delete_link': _delete_link, 'create_cdm_job': _create_cdm_job, 'submissions': _submissions,
    'list_cdm_jobs': _list_cdm_jobs, 'show_cdm_job': _show_cdm_job, 'update_cdm_job': _update_cdm_job,
    'delete_cdm_job': _delete_cdm_job, 'start_cdm_job': _start_cdm_job, 'stop_cdm_job': _stop_cdm_job,
    'cdm_job_status': _cdm_job_status, 'put_obs': _put_obs,
    'admin_settings': _admin_settings, 'admin_show_settings': _admin_show_settings,
    'admin_lock_script': _admin_lock_script, 'admin_unlock_script': _admin_unlock_script,
    'list_instances': _list_instances, 'list_workspaces': _list_workspaces,
}
if set(HANDLERS) != set(ROUTES):  # a mismatch is a programming error, found at import
    raise RuntimeError(f'routes without handlers: {sorted(set(ROUTES) - set(HANDLERS))}; '
                       f'handlers without routes: {sorted(set(HANDLERS) - set(ROUTES))}')

_COMPILED = [(r, r.template.strip('/').split('/')) for r in ROUTES.values()]


def match_route(method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    """(route, path parameters) for a request, or None.

    Matches on the raw path's segments, each percent-decoded on its own, so that a name
    holding `%2F` stays one segment. Routes are tried in table order (literals first).
    """
    segments = [unquote(s) for s in raw_path.strip('/').split('/')]
    for route, pattern in _COMPILED:
        if route.method != method:
            continue
        params: dict[str, str] = {}
        for i, part in enumerate(pattern):
            if part.endswith('*}'):
                if i >= len(segments):
                    break
                params[part[1:-2]] = '/'.join(segments[i:])
                return route, params
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
                return route, params
    return None
