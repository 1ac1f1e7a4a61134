"""API-form spec builders for workspace tests (engine, local workspace, emulator, contract).

Plain functions, imported by test modules: `from workspace_specs import job_spec`.
Each returns a fresh dict shaped as the reference documents it.
"""

from __future__ import annotations

from typing import Any

from jobsync.model import LiveObject, ObjectKey
from jobsync.workspace.base import Workspace


def read_all(workspace: Workspace) -> dict[ObjectKey, LiveObject]:
    """Every object with its content: one round of list calls, then batched reads."""
    return workspace.read(workspace.list_objects())


def job_spec(
        name: str,
        *,
        scripts: tuple[str, ...] = (),
        connection: str | None = None,
        resource: str | None = None,
        process_type: str = 'BATCH',
        **extra: Any,
) -> dict[str, Any]:
    """A Factory job: one node per script (plus a Dummy node when there is none)."""
    nodes: list[dict[str, Any]] = []
    for script in scripts:
        props = [{'name': 'scriptName', 'value': script}]
        if connection:
            props.append({'name': 'connectionName', 'value': connection})
        nodes.append({'name': f'run_{script}', 'type': 'DWSSQL', 'location': {'x': '10', 'y': '10'},
                      'preNodeName': [], 'properties': props})
    if resource:
        nodes.append({'name': 'spark', 'type': 'MRSSpark', 'preNodeName': [],
                      'properties': [{'name': 'resourceName', 'value': resource}]})
    if not nodes:
        props = [{'name': 'connectionName', 'value': connection}] if connection else []
        nodes.append({'name': 'start', 'type': 'Dummy', 'preNodeName': [], 'properties': props})
    return {
        'name': name,
        'processType': process_type,
        'directory': '/etl',
        'basicConfig': {'owner': 'alice', 'priority': 0},
        'schedule': {'type': 'CRON', 'cron': {'startTime': '2025-01-01T00:00:00+08', 'expression': '0 0 2 * * ?'}},
        'nodes': nodes,
        **extra,
    }


def script_spec(name: str, *, content: str = 'SELECT 1;', connection: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {'name': name, 'type': 'DWSSQL', 'content': content, 'directory': '/'}
    if connection:
        spec['connectionName'] = connection
    return spec


def resource_spec(name: str, *, location: str = 'obs://bucket/app.jar') -> dict[str, Any]:
    return {'name': name, 'type': 'jar', 'location': location, 'directory': '/lib'}


def connection_spec(name: str, *, password: str = 'dws-secret') -> dict[str, Any]:
    return {
        'dw_name': name, 'dw_type': 'DWS', 'agent_name': 'cdm-agent', 'env_type': 0, 'description': '',
        'dw_config': {'host': '10.0.0.5', 'port': '8000', 'user': 'dbadmin', 'password': password},
    }


def link_spec(name: str, *, password: str = 'link-secret') -> dict[str, Any]:
    return {
        'name': name, 'connector-name': 'generic-jdbc-connector', 'enabled': True,
        'link-config-values': {'configs': [{'name': 'linkConfig', 'inputs': [
            {'name': 'linkConfig.host', 'value': '10.0.0.7'},
            {'name': 'linkConfig.username', 'value': 'etl'},
            {'name': 'linkConfig.password', 'value': password},
        ]}]},
    }


def cdm_job_spec(name: str, *, source: str, target: str, group: str | None = None,
                 job_type: str = 'NORMAL_JOB') -> dict[str, Any]:
    driver: list[dict[str, Any]] = [
        {'name': 'throttlingConfig', 'inputs': [{'name': 'throttlingConfig.numExtractors', 'value': '1'}]},
    ]
    if group is not None:
        driver.append({'name': 'groupJobConfig', 'inputs': [{'name': 'groupJobConfig.groupName', 'value': group}]})
    return {
        'name': name, 'job_type': job_type,
        'from-connector-name': 'generic-jdbc-connector', 'from-link-name': source,
        'to-connector-name': 'generic-jdbc-connector', 'to-link-name': target,
        'from-config-values': {'configs': [{'name': 'fromJobConfig', 'inputs': [
            {'name': 'fromJobConfig.tableName', 'value': 'orders'}]}]},
        'to-config-values': {'configs': [{'name': 'toJobConfig', 'inputs': [
            {'name': 'toJobConfig.tableName', 'value': 'orders'}]}]},
        'driver-config-values': {'configs': driver},
    }
