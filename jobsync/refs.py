"""References between objects: what a definition points at.

One place for both uses: `validate` reports references that point nowhere, and apply orders
objects so that what is referenced is written first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jobsync.model import ObjectKey, Spec
from jobsync.secrets import escape_pointer

# Node types whose `resourcePath` may name a Factory resource; a value that is not an
# `obs://` path names the resource (jobsync's convention, see README "References").
RESOURCE_NODE_TYPES = frozenset({'MRSSpark', 'MapReduce', 'DLISpark', 'MRSFlink', 'MRSFlinkJob'})


@dataclass(frozen=True)
class Reference:
    pointer: str  # where in the referring spec (repo-form pointer)
    target: ObjectKey
    what: str  # 'script', 'connection', 'CDM job', ...


def node_properties(node: Any) -> dict[str, Any]:
    """A node's properties as a mapping, from either the API list or the repo mapping."""
    props = node.get('properties') if isinstance(node, dict) else None
    if isinstance(props, dict):
        return props
    if isinstance(props, list):
        return {p['name']: p.get('value') for p in props if isinstance(p, dict) and isinstance(p.get('name'), str)}
    return {}


def references(key: ObjectKey, spec: Spec) -> Iterator[Reference]:
    """Every reference `spec` makes to another object of the repo or workspace."""
    if key.kind == 'job':
        yield from _job_references(spec)
    elif key.kind == 'script':
        conn = spec.get('connectionName')
        if isinstance(conn, str) and conn:
            yield Reference('/connectionName', ObjectKey('connection', conn), 'connection')
    elif key.kind == 'cdm-job':
        for field in ('from-link-name', 'to-link-name'):
            link = spec.get(field)
            if isinstance(link, str) and link:
                yield Reference(f'/{field}', ObjectKey('cdm-link', link, key.cluster), 'CDM link')


def _job_references(spec: Spec) -> Iterator[Reference]:
    for i, node in enumerate(spec.get('nodes') or []):
        if not isinstance(node, dict):
            continue
        props = node_properties(node)
        base = f'/nodes/{i}/properties'

        def ptr(name: str, base: str = base) -> str:
            return f'{base}/{escape_pointer(name)}'

        script = props.get('scriptName')
        if isinstance(script, str) and script:
            yield Reference(ptr('scriptName'), ObjectKey('script', script), 'script')
        conn = props.get('connectionName')
        if isinstance(conn, str) and conn:
            yield Reference(ptr('connectionName'), ObjectKey('connection', conn), 'connection')
        if node.get('type') == 'CDMJob':
            cluster, job = props.get('clusterName'), props.get('jobName')
            if isinstance(cluster, str) and cluster and isinstance(job, str) and job:
                yield Reference(ptr('jobName'), ObjectKey('cdm-job', job, cluster), 'CDM job')
        if node.get('type') in RESOURCE_NODE_TYPES:
            path = props.get('resourcePath')
            if isinstance(path, str) and path and not path.startswith('obs://'):
                yield Reference(ptr('resourcePath'), ObjectKey('resource', path), 'resource')
    cron = (spec.get('schedule') or {}).get('cron') or {}
    depend = cron.get('dependJobs') or {} if isinstance(cron, dict) else {}
    jobs = depend.get('jobs') if isinstance(depend, dict) else None
    for j, name in enumerate(jobs or []):
        if isinstance(name, str) and name:
            yield Reference(f'/schedule/cron/dependJobs/jobs/{j}', ObjectKey('job', name), 'job')
