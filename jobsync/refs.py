"""References between objects, and every other name a definition uses: one place knows them all.

Three uses: `validate` reports references that point nowhere, apply orders objects so that what
is referenced is written first, and per-target remapping (remap.py) renames every use of a
connection, CDM cluster, MRS cluster, DLI queue or DIS stream, the declarative form of the
import API's `resources` replacements (reference §4.7).

`name_uses` yields every use with two addresses: the repo-form JSON pointer people read in
messages (`/nodes/0/properties/connectionName`) and the path inside the spec as given (API
form: properties are `{name, value}` lists), so a value can be rewritten in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, NamedTuple

from jobsync.model import Kind, ObjectKey, Spec
from jobsync.secrets import escape_pointer

# Node types whose `resourcePath` may name a Factory resource; a value that is not an
# `obs://` path names the resource (jobsync's convention, see README "References").
RESOURCE_NODE_TYPES = frozenset({'MRSSpark', 'MapReduce', 'DLISpark', 'MRSFlink', 'MRSFlinkJob'})
# Node types whose `clusterName` is an MRS cluster name (reference §4.2 node properties table).
MRS_NODE_TYPES = frozenset({'MRSSpark', 'MapReduce', 'MRSFlink', 'MRSFlinkJob', 'MRSHetuEngine'})
# DLISpark's `clusterName` is the DLI queue (reference §4.2: "clusterName Y (= DLI queue)").
DLI_QUEUE_NODE_TYPES = frozenset({'DLISpark'})
# Connection types living on an MRS cluster, whose `dw_config.cluster_name` names it (reference §7.1
# HIVE / SparkSQL; the Management-Center form uses snake_case keys).
MRS_CONNECTION_TYPES = frozenset({'HIVE', 'SparkSQL', 'SPARK', 'HBASE', 'HDFS'})

Category = Literal[
    'connection', 'script', 'resource', 'job', 'cdm-job', 'cdm-link',
    'cdm-cluster', 'mrs-cluster', 'dli-queue', 'dis-stream',
]
# Categories naming objects jobsync keeps (their uses are references to check); the others
# name things outside jobsync (clusters, queues, streams) that only remapping touches.
OBJECT_CATEGORIES: dict[Category, Kind] = {
    'connection': 'connection', 'script': 'script', 'resource': 'resource', 'job': 'job',
    'cdm-job': 'cdm-job', 'cdm-link': 'cdm-link',
}
_WHAT: dict[Category, str] = {
    'connection': 'connection', 'script': 'script', 'resource': 'resource', 'job': 'job',
    'cdm-job': 'CDM job', 'cdm-link': 'CDM link', 'cdm-cluster': 'CDM cluster',
    'mrs-cluster': 'MRS cluster', 'dli-queue': 'DLI queue', 'dis-stream': 'DIS stream',
}

Path = tuple[str | int, ...]


class NameUse(NamedTuple):
    """One name a definition uses (a tuple: every load makes one per reference of every definition)."""

    pointer: str  # repo-form JSON pointer, for messages
    path: Path  # where the value sits in the spec as given, for rewriting
    category: Category
    name: str
    cluster: str = ''  # cdm-job / cdm-link uses: the CDM cluster the name lives in

    @property
    def what(self) -> str:
        return _WHAT[self.category]

    @property
    def target(self) -> ObjectKey | None:
        """The object this use refers to, or None for names of things jobsync does not keep."""
        kind = OBJECT_CATEGORIES.get(self.category)
        if kind is None or (kind in ('cdm-job', 'cdm-link') and not self.cluster):
            return None
        return ObjectKey(kind, self.name, self.cluster)


class Reference(NamedTuple):
    pointer: str  # where in the referring spec (repo-form pointer)
    target: ObjectKey
    what: str  # 'script', 'connection', 'CDM job', ...


def _property_slots(node: Any) -> dict[str, tuple[Path, Any]]:
    """name -> (path of the value relative to the node, value), for either property form."""
    props = node.get('properties') if isinstance(node, dict) else None
    if isinstance(props, dict):
        return {name: (('properties', name), value) for name, value in props.items()}
    if isinstance(props, list):
        return {p['name']: (('properties', i, 'value'), p.get('value')) for i, p in enumerate(props)
                if isinstance(p, dict) and isinstance(p.get('name'), str)}
    return {}


def references(key: ObjectKey, spec: Spec) -> Iterator[Reference]:
    """Every reference `spec` makes to another object of the repo or workspace."""
    for use in name_uses(key, spec):
        target = use.target
        if target is not None:
            yield Reference(use.pointer, target, use.what)


def name_uses(key: ObjectKey, spec: Spec) -> Iterator[NameUse]:
    """Every name `spec` (of the object `key`) uses, objects and outside resources alike.

    The object's own name is not a use; remapping renames keys separately (remap.py).
    """
    if key.kind == 'job':
        yield from _job_uses(spec)
    elif key.kind == 'script':
        yield from _top_level(spec, 'connectionName', 'connection')
        yield from _top_level(spec, 'queueName', 'dli-queue')  # DLI SQL scripts (reference §5)
    elif key.kind == 'cdm-job':
        for field in ('from-link-name', 'to-link-name'):
            for use in _top_level(spec, field, 'cdm-link'):
                yield NameUse(use.pointer, use.path, use.category, use.name, key.cluster)
    elif key.kind == 'connection':
        # The agent is the CDM cluster a proxied connection goes through (reference §7.1 agentName).
        yield from _top_level(spec, 'agent_name', 'cdm-cluster')
        config = spec.get('dw_config')
        if spec.get('dw_type') in MRS_CONNECTION_TYPES and isinstance(config, dict):
            for field in ('cluster_name', 'clusterName'):
                value = config.get(field)
                if isinstance(value, str) and value:
                    yield NameUse(f'/dw_config/{field}', ('dw_config', field), 'mrs-cluster', value)


def _top_level(spec: Spec, field: str, category: Category) -> Iterator[NameUse]:
    value = spec.get(field)
    if isinstance(value, str) and value:
        yield NameUse(f'/{escape_pointer(field)}', (field,), category, value)


def _job_uses(spec: Spec) -> Iterator[NameUse]:
    nodes = spec.get('nodes')
    for i, node in enumerate(nodes if isinstance(nodes, list) else []):
        if not isinstance(node, dict):
            continue
        slots = _property_slots(node)
        node_type = node.get('type')

        def use(prop: str, category: Category, cluster: str = '', i: int = i,
                slots: dict[str, tuple[Path, Any]] = slots) -> Iterator[NameUse]:
            if prop not in slots:
                return
            rel, value = slots[prop]
            if isinstance(value, str) and value:
                yield NameUse(f'/nodes/{i}/properties/{escape_pointer(prop)}', ('nodes', i, *rel), category, value,
                              cluster)

        yield from use('scriptName', 'script')
        yield from use('connectionName', 'connection')
        cluster = slots.get('clusterName', ((), None))[1]
        if node_type == 'CDMJob':
            yield from use('clusterName', 'cdm-cluster')
            if isinstance(cluster, str) and cluster:
                yield from use('jobName', 'cdm-job', cluster)
        elif node_type in MRS_NODE_TYPES:
            yield from use('clusterName', 'mrs-cluster')
        elif node_type in DLI_QUEUE_NODE_TYPES:
            yield from use('clusterName', 'dli-queue')
        if node_type in RESOURCE_NODE_TYPES:
            path = slots.get('resourcePath', ((), None))[1]
            if isinstance(path, str) and not path.startswith('obs://'):
                yield from use('resourcePath', 'resource')
        trigger = node.get('eventTrigger')
        if isinstance(trigger, dict):
            yield from _dis_channel(trigger, f'/nodes/{i}/eventTrigger', ('nodes', i, 'eventTrigger'))
    schedule = spec.get('schedule')
    if not isinstance(schedule, dict):
        return
    event = schedule.get('event')
    if isinstance(event, dict):
        yield from _dis_channel(event, '/schedule/event', ('schedule', 'event'))
    cron = schedule.get('cron')
    depend = cron.get('dependJobs') if isinstance(cron, dict) else None
    jobs = depend.get('jobs') if isinstance(depend, dict) else None
    for j, name in enumerate(jobs if isinstance(jobs, list) else []):
        if isinstance(name, str) and name:
            yield NameUse(f'/schedule/cron/dependJobs/jobs/{j}', ('schedule', 'cron', 'dependJobs', 'jobs', j),
                          'job', name)


def _dis_channel(event: dict[str, Any], pointer: str, path: Path) -> Iterator[NameUse]:
    """A DIS event's `channel` is the stream name (reference §4.2 Event)."""
    channel = event.get('channel')
    if event.get('eventType') == 'DIS' and isinstance(channel, str) and channel:
        yield NameUse(f'{pointer}/channel', (*path, 'channel'), 'dis-stream', channel)
