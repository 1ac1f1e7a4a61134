"""A target's default `expressionTimeZone` for schedules that name none. Pure.

The console guide's advice when moving jobs between zones is to adjust `expressionTimeZone`
(reference §4.7 rules); without one, a schedule runs in the DataArts region's zone (reference
§4.2 Cron). A target's `expressionTimeZone` makes that explicit for every CRON schedule and
every node cron trigger that does not set its own (absent, null or empty); those that do are
left alone.
"""

from __future__ import annotations

from jobsync.model import Spec

FIELD = 'expressionTimeZone'


def default_time_zone(spec: Spec, zone: str | None) -> Spec:
    """A copy of the job `spec` (API form) with `zone` where a schedule names none."""
    if not zone:
        return spec
    # Copies of the mappings on the way to a cron only (not a deep copy: the rest is shared, and
    # nothing changes a definition once it is built).
    out = dict(spec)
    schedule = out.get('schedule')
    if isinstance(schedule, dict) and schedule.get('type') == 'CRON' and isinstance(schedule.get('cron'), dict):
        out['schedule'] = {**schedule, 'cron': _filled(schedule['cron'], zone)}
    nodes = out.get('nodes')
    if isinstance(nodes, list):
        out['nodes'] = [{**node, 'cronTrigger': _filled(node['cronTrigger'], zone)}
                        if isinstance(node, dict) and isinstance(node.get('cronTrigger'), dict) else node
                        for node in nodes]
    return out


def _filled(cron: dict[str, object], zone: str) -> dict[str, object]:
    if cron.get(FIELD):
        return cron
    return {**cron, FIELD: zone}  # absent, null or '' all mean "the region's zone"
