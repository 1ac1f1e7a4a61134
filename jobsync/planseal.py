"""A saved plan as a contract (issue 12 item 3): an integrity digest over its whole content, and the
check that its target matches jobsync.yaml at its revision. Re-exported by plan.py."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jobsync import jsontext
from jobsync.errors import PlanError

if TYPE_CHECKING:
    from jobsync.plan import Plan

# Trust model, as Terraform's: a saved plan is as sensitive as the credentials that apply it. The
# digest makes any edit after `plan --out` visible. Keyed (HMAC-SHA256 with JOBSYNC_PLAN_KEY), only
# holders of the key can write a plan that apply accepts; unkeyed (plain SHA-256) it catches
# accidental and careless edits only, since anyone can recompute it.

PLAN_KEY_ENV = 'JOBSYNC_PLAN_KEY'


def _canonical(doc: Mapping[str, Any]) -> bytes:
    """The plan's whole content but its digest, independent of whitespace and key order."""
    body = {k: v for k, v in doc.items() if k != 'integrity'}
    return json.dumps(body, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode('utf-8')


def _integrity(doc: Mapping[str, Any], key: str | None) -> dict[str, str]:
    if key:
        digest = hmac.new(key.encode('utf-8'), _canonical(doc), hashlib.sha256).hexdigest()
        return {'algorithm': 'hmac-sha256', 'digest': digest}
    return {'algorithm': 'sha256', 'digest': hashlib.sha256(_canonical(doc)).hexdigest()}


def seal(text: str, key: str | None) -> str:
    """The plan document `text` with its integrity digest added (keyed when `key` is given)."""
    doc = json.loads(text)
    doc.pop('integrity', None)
    doc['integrity'] = _integrity(doc, key)
    return jsontext.pretty(doc) + '\n'


def verify(text: str, key: str | None, *, where: str = 'the plan') -> None:
    """Raise PlanError unless `text` carries a digest over exactly its content, made with `key`.

    With a key set, a plan sealed without one is refused too: anyone could have written it.
    """
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise PlanError(f'{where} is not a jobsync plan file: {err}') from None
    integrity = doc.get('integrity') if isinstance(doc, dict) else None
    hint = 'run `jobsync plan --out` again and apply that file unedited'
    if not isinstance(integrity, dict) or not isinstance(integrity.get('digest'), str):
        raise PlanError(f'{where} carries no integrity digest, so edits to it cannot be told; nothing was written',
                        hint=hint)
    algorithm = integrity.get('algorithm')
    if algorithm == 'hmac-sha256' and not key:
        raise PlanError(f'{where} was sealed with {PLAN_KEY_ENV}, which is not set here; nothing was written',
                        hint=f'set {PLAN_KEY_ENV} to the key the plan was made with')
    if algorithm != 'hmac-sha256' and key:
        raise PlanError(f'{where} was not sealed with {PLAN_KEY_ENV}: anyone could have written it; '
                        'nothing was written', hint=f'make the plan where {PLAN_KEY_ENV} is set')
    if not hmac.compare_digest(integrity['digest'], _integrity(doc, key)['digest']):
        raise PlanError(f'{where} was edited after it was written (its integrity digest does not match); '
                        'nothing was written', hint=hint)


def check_target_config(plan: Plan, target_settings: Mapping[str, Any] | None, *, same_workspace: bool) -> None:
    """Refuse a plan whose target, workspace or endpoints differ from jobsync.yaml at its revision.

    `target_settings` is the target's mapping in jobsync.yaml at the plan's revision (None: the
    target is not there); `same_workspace` whether its workspace is the one the plan names.
    """
    if target_settings is None:
        raise PlanError(f'the plan names target {plan.target!r}, which jobsync.yaml at {plan.repo_rev} does not '
                        'define; nothing was written', hint='plan again, and apply that file unedited')
    planned = {k: v for k, v in plan.target_settings.items() if k != 'workspace'}
    written = {k: v for k, v in target_settings.items() if k != 'workspace'}
    differ = sorted(k for k in planned.keys() | written.keys() if planned.get(k) != written.get(k))
    if not same_workspace:
        differ.insert(0, 'workspace')
    if differ:
        raise PlanError(f'the plan\'s target {plan.target!r} differs from jobsync.yaml at {plan.repo_rev} in: '
                        f'{", ".join(differ)}; nothing was written',
                        hint='a plan is applied to the workspace and endpoints its revision names: plan again')
