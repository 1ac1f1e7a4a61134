"""JSON documents for machines: the plan (versioned) and the apply result."""

from __future__ import annotations

import json

from jobsync.apply import ApplyResult
from jobsync.plan import Plan, plan_to_json
from jobsync.render import escape

__all__ = ['render_apply_json', 'render_plan_json']


def render_plan_json(plan: Plan) -> str:
    return escape.json_text(plan_to_json(plan))


def render_apply_json(result: ApplyResult) -> str:
    doc = {
        'ok': result.ok,
        'outcomes': [
            {'key': str(o.key), 'action': o.action, 'status': o.status.value, 'message': o.message}
            for o in result.outcomes
        ],
    }
    return escape.json_text(json.dumps(doc, indent=2, ensure_ascii=False)) + '\n'
