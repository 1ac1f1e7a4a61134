"""Limits apply will meet, checked at plan time (issue 16 item 4): a plan that apply would fail on
is refused before any write, every violation named at once.

Checked: each object written must fit an import package on its own (its estimated package bytes,
secrets included, against the target's `batch.max_bytes`, at most the service's 1 MB); names
follow the service's rules (kinds.name_problem); batches hold at most `batch.max_objects`
objects (the service exports at most 100 jobs a call).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jobsync.errors import PlanError
from jobsync.kinds import name_problem
from jobsync.model import MAX_EXPORT_JOBS, MAX_PACKAGE_BYTES, ObjectKey, Spec
from jobsync.plan import Action, Plan

SizeOf = Callable[[Sequence[tuple[ObjectKey, Spec]]], int]


def limit_problems(plan: Plan, *, max_objects: int, max_bytes: int, size_of: SizeOf) -> list[str]:
    """Every limit the plan's writes break, in words naming the object (empty: none)."""
    problems: list[str] = []
    if max_bytes > MAX_PACKAGE_BYTES:
        problems.append(f'batch.max_bytes {max_bytes} is over the service\'s import package limit '
                        f'({MAX_PACKAGE_BYTES} bytes)')
    if max_objects > MAX_EXPORT_JOBS:
        problems.append(f'batch.max_objects {max_objects} is over the service\'s limit of {MAX_EXPORT_JOBS} a call')
    limit = min(max_bytes, MAX_PACKAGE_BYTES)
    for c in plan.changes:
        if c.action not in (Action.CREATE, Action.UPDATE) or c.desired is None:
            continue
        why = name_problem(c.key.kind, c.key.name)
        if why is not None:
            problems.append(f'{c.key}: {why}')
        size = size_of([(c.key, c.desired)])
        if size > limit:
            problems.append(f'{c.key}: its import package alone is about {size} bytes, over the {limit}-byte limit '
                            '(split it, or move large content to a resource on OBS)')
    problems.extend(f'batch {i}: {len(batch)} objects, over batch.max_objects {max_objects}'
                    for i, batch in enumerate(plan.batches, 1) if len(batch) > max_objects)
    return problems


def check_limits(plan: Plan, *, max_objects: int, max_bytes: int, size_of: SizeOf) -> None:
    """Raise PlanError listing every violated limit; nothing has been written."""
    problems = limit_problems(plan, max_objects=max_objects, max_bytes=max_bytes, size_of=size_of)
    if problems:
        raise PlanError(f'the plan breaks {len(problems)} limit(s) apply would meet: ' + '; '.join(problems)
                        + '; nothing was written', hint='fix the definitions (or the batch settings) and plan again')
