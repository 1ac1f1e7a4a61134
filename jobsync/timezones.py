"""A target's default `expressionTimeZone` for schedules that name none. Pure.

The console guide's advice when moving jobs between zones is to adjust `expressionTimeZone`
(reference §4.7 rules); without one, a schedule runs in the DataArts region's zone (reference
§4.2 Cron). A target's `expressionTimeZone` makes that explicit for every CRON schedule and
every node cron trigger that does not set its own (absent, null or empty); those that do are
left alone.
"""

from __future__ import annotations

import copy

from jobsync.model import Spec

FIELD = 'expressionTimeZone'


def default_time_zone(spec: Spec, zone: str | None) -> Spec:
    """A copy of the job `spec` (API form) with `zone` where a schedule names none."""
    if not zone:
        return spec
    out = copy.deepcopy(spec)
    schedule = out.get('schedule')
    if isinstance(schedule, dict) and schedule.get('type') == 'CRON' and isinstance(schedule.get('cron'), dict):
        _fill(schedule['cron'], zone)
    nodes = out.get('nodes')
    for node in nodes if isinstance(nodes, list) else []:
        trigger = node.get('cronTrigger') if isinstance(node, dict) else None
        if isinstance(trigger, dict):
            _fill(trigger, zone)
    return out


def _fill(cron: dict[str, object], zone: str) -> None:
    if not cron.get(FIELD):  # absent, null or '' all mean "the region's zone"
        cron[FIELD] = zone
