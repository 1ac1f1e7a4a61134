"""JSON documents for machines: the plan (versioned) and the apply result."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jobsync import jsontext
from jobsync.apply import ApplyResult
from jobsync.plan import Plan
from jobsync.planfile import plan_to_json
from jobsync.render import escape

if TYPE_CHECKING:
    from jobsync.commands.flow import Spent

__all__ = ['render_apply_json', 'render_plan_json']


def render_plan_json(plan: Plan) -> str:
    return escape.json_text(plan_to_json(plan))


def render_apply_json(result: ApplyResult, spent: Spent | None = None) -> str:
    doc: dict[str, object] = {
        'ok': result.ok,
        'outcomes': [
            {'key': str(o.key), 'action': o.action, 'status': o.status.value, 'message': o.message}
            for o in result.outcomes
        ],
    }
    if spent is not None:
        doc['api'] = {'calls': spent.calls, 'retries': spent.retries, 'throttle_waits': spent.throttle_waits,
                      'by_route': dict(spent.by_route)}
    return escape.json_text(jsontext.pretty(doc)) + '\n'
