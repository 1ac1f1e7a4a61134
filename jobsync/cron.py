"""Cron expressions and time zones of job schedules, checked as the service documents them. Pure.

DataArts Factory (API reference §4.2 Cron): 6 fields `<second> <minute> <hour> <day> <month>
<week>`, second `0` and month `*` in the current version, week 1-7 starting Sunday, e.g.
`0 0 2 * * ?` (Quartz syntax). The schema checks the shape (6 fields, second 0, month *); this
checks each field's values, so `0 99 25 * * ?` is refused at validate and not by the service
during apply. Time zones: an IANA name (`zoneinfo`, e.g. `Asia/Shanghai`) or `GMT+8` / `UTC-05:30`.
No well-kept Python cron parser reads Quartz's `?`, `L`, `W` and `#` with seconds first (croniter
reads seconds last and no `?`), hence this precise checker.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

_WEEKDAYS = {name: i + 1 for i, name in enumerate(('SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'))}
# (name, low, high, names) of the fields checked here; second and month are the schema's.
_FIELDS = {1: ('minute', 0, 59), 2: ('hour', 0, 23), 3: ('day', 1, 31), 5: ('week', 1, 7)}
_OFFSET_ZONE = re.compile(r'^(?:GMT|UTC)(?:[+-](?P<h>\d{1,2})(?::?(?P<m>\d{2}))?)?$')


def _number(text: str, field: str, low: int, high: int) -> str | None:
    value = _WEEKDAYS.get(text.upper()) if field == 'week' else None
    if value is None:
        if not text.isdigit():
            return f'{field} {text!r} is not a number'
        value = int(text)
    if not low <= value <= high:
        return f'{field} {value} is out of range {low}-{high}'
    return None


def _item(item: str, field: str, low: int, high: int) -> str | None:
    """One comma-separated part of a field: *, ?, N, N-M, with /STEP, or Quartz's L, W and #."""
    if item == '?' and field in ('day', 'week'):
        return None
    if field == 'day' and (item in ('L', 'LW') or re.fullmatch(r'L-\d{1,2}', item)):
        return None
    if field == 'day' and item.endswith('W') and item[:-1].isdigit():
        return _number(item[:-1], field, low, high)
    if field == 'week' and item.endswith('L') and len(item) > 1:
        return _number(item[:-1], field, low, high)
    if field == 'week' and '#' in item:
        day, _, nth = item.partition('#')
        return _number(day, field, low, high) or (None if nth in ('1', '2', '3', '4', '5')
                                                  else f'week {item!r}: the #N after a weekday is 1-5')
    base, slash, step = item.partition('/')
    if slash and (not step.isdigit() or not 1 <= int(step) <= high):
        return f'{field} step {step!r} must be a number 1-{high}'
    if base == '*':
        return None
    first, dash, last = base.partition('-')
    problem = _number(first, field, low, high) or (_number(last, field, low, high) if dash else None)
    if problem is None and dash and _value(first) > _value(last):
        problem = f'{field} range {base} runs backwards'
    return problem


def _value(text: str) -> int:
    return _WEEKDAYS.get(text.upper()) or int(text)


def expression_problems(expression: str) -> list[str]:
    """What is wrong with the values of a 6-field expression (its shape is the schema's to check)."""
    return list(_expression_problems(expression)) if len(expression) <= 200 else _problems_of(expression)


@lru_cache(maxsize=4096)
def _expression_problems(expression: str) -> tuple[str, ...]:
    # Thousands of jobs share a handful of schedules: each is checked once per process.
    return tuple(_problems_of(expression))


def _problems_of(expression: str) -> list[str]:
    fields = expression.split()
    if len(fields) != 6:
        return []  # the schema's pattern says so, with the expected form
    problems = []
    for index, (field, low, high) in _FIELDS.items():
        for item in fields[index].split(','):
            problem = _item(item, field, low, high) if item else f'{field} has an empty list item'
            if problem:
                problems.append(problem)
    if fields[3] not in ('?', '*') and fields[5] not in ('?', '*'):
        problems.append('day and week are both set; one of them must be ? (or *)')
    return problems


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone_problem(zone: str) -> tuple[str, str] | None:
    """(problem, hint) when `zone` is neither an IANA zone name nor a GMT/UTC offset."""
    offset = _OFFSET_ZONE.match(zone)
    if offset:
        hours, minutes = int(offset['h'] or 0), int(offset['m'] or 0)
        if hours > 14 or minutes > 59:
            return f'time zone {zone!r} is beyond the offsets in use (-12 to +14)', 'write e.g. GMT+8'
        return None
    known = _zones()
    if not known:  # no time-zone database on this machine: nothing to judge by
        return None
    if zone in known:
        return None
    close = difflib.get_close_matches(zone, sorted(known), n=1)
    hint = f'did you mean {close[0]!r}?' if close else 'use an IANA name such as Asia/Shanghai, or GMT+8'
    return f'unknown time zone {zone!r}', hint


def schedule_problems(job: Any) -> Iterator[tuple[str, str, str]]:
    """(pointer, problem, hint) for the job's schedule cron and every node's cron trigger."""
    if not isinstance(job, dict):
        return
    schedule = job.get('schedule')
    places: list[tuple[str, Any]] = []
    if isinstance(schedule, dict) and isinstance(schedule.get('cron'), dict):
        places.append(('/schedule/cron', schedule['cron']))
    nodes = job.get('nodes')
    for i, node in enumerate(nodes if isinstance(nodes, list) else []):
        if isinstance(node, dict) and isinstance(node.get('cronTrigger'), dict):
            places.append((f'/nodes/{i}/cronTrigger', node['cronTrigger']))
    for pointer, cron in places:
        expression = cron.get('expression')
        if isinstance(expression, str):
            for problem in expression_problems(expression):
                yield (f'{pointer}/expression', f'cron expression {expression!r}: {problem}',
                       "6 fields '<second> <minute> <hour> <day> <month> <week>': minute 0-59, hour 0-23, "
                       "day 1-31 or ?, week 1-7 (SUN-SAT) or ?; e.g. '0 0 2 * * ?'")
        zone = cron.get('expressionTimeZone')
        if isinstance(zone, str) and zone:
            found = time_zone_problem(zone)
            if found:
                yield (f'{pointer}/expressionTimeZone', *found)
