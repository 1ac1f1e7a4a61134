"""The plan as a document: `plan.json`, versioned (`FORMAT_VERSION`), written and read back exactly.

Secrets stay references in it (`jsontext` writes a `SecretText` as its reference text), so a plan
file is safe to keep as a CI artifact; `planseal.py` seals the text and checks the seal before apply reads it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from jobsync import jsontext, secrets
from jobsync.diff import FieldChange
from jobsync.errors import PlanError
from jobsync.model import ObjectKey
from jobsync.plan import FORMAT_VERSION, Action, Change, Orphan, Plan, Side, summary_counts


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan document (schemas/plan.schema.json), for `jsontext`: secrets are `SecretText`
    references in it (written as their text), never values."""
    return {
        'format_version': plan.format_version,
        'repo_rev': plan.repo_rev,
        'target': plan.target,
        'workspace': plan.workspace,
        'target_settings': dict(plan.target_settings),
        'state_serial': plan.state_serial,
        'base_rev': plan.base_rev,
        'summary': summary_counts(plan),
        'changes': [
            {
                'key': str(c.key),
                'action': c.action.value,
                'reason': c.reason,
                'side': c.side.value if c.side is not None else None,
                'source': c.source,
                'live_updated': c.live_updated,
                'requires': [str(k) for k in c.requires],
                'fields': [{'pointer': f.pointer, 'before': f.before, 'after': f.after} for f in c.fields],
                'secrets_changed': list(c.secrets_changed),
                'desired': c.desired,
            }
            for c in plan.changes
        ],
        'unmanaged': [str(k) for k in plan.unmanaged],
        'orphans': [{'key': str(o.key), 'reason': o.reason} for o in plan.orphans],
        'branch_changes': [str(k) for k in plan.branch_changes],
        'batches': [[str(k) for k in batch] for batch in plan.batches],
        'api_calls': dict(sorted(plan.api_calls.items())),
        'notes': list(plan.notes),
        **({'skipped': [str(k) for k in plan.skipped]} if plan.skipped else {}),
    }


def plan_to_json(plan: Plan) -> str:
    return jsontext.pretty(plan_to_dict(plan)) + '\n'


def plan_digest(plan: Plan) -> str:
    """SHA-256 of the plan document: the state records it, so a saved plan applied twice is told so."""
    return hashlib.sha256(plan_to_json(plan).encode('utf-8')).hexdigest()


def plan_from_json(text: str) -> Plan:
    """Read a saved plan; refuses unknown format versions and documents that are not plans."""
    try:
        doc = json.loads(text)
        version = doc.get('format_version')
        if version != FORMAT_VERSION:
            raise PlanError(f'plan format_version {version!r} is not supported (this jobsync reads {FORMAT_VERSION})',
                            hint='re-run plan with this version of jobsync')
        changes = tuple(
            Change(
                key=ObjectKey.parse(c['key']),
                action=Action(c['action']),
                reason=c['reason'],
                fields=tuple(FieldChange(f['pointer'], secrets.parse_placeholders(f['before']),
                                         secrets.parse_placeholders(f['after'])) for f in c['fields']),
                desired=secrets.parse_placeholders(c['desired']),
                live_updated=c['live_updated'],
                source=c['source'],
                requires=tuple(ObjectKey.parse(k) for k in c['requires']),
                side=Side(c['side']) if c.get('side') is not None else None,
                secrets_changed=tuple(c.get('secrets_changed') or ()),
            )
            for c in doc['changes']
        )
        return Plan(
            repo_rev=doc['repo_rev'], target=doc['target'], workspace=doc['workspace'], changes=changes,
            unmanaged=tuple(ObjectKey.parse(k) for k in doc['unmanaged']),
            batches=tuple(tuple(ObjectKey.parse(k) for k in b) for b in doc['batches']),
            api_calls=doc.get('api_calls', {}), format_version=version,
            orphans=tuple(Orphan(ObjectKey.parse(o['key']), o['reason']) for o in doc.get('orphans') or ()),
            state_serial=doc.get('state_serial'), base_rev=doc.get('base_rev'),
            branch_changes=tuple(ObjectKey.parse(k) for k in doc.get('branch_changes') or ()),
            target_settings=doc.get('target_settings') or {}, notes=tuple(doc.get('notes') or ()),
            skipped=tuple(ObjectKey.parse(k) for k in doc.get('skipped') or ()),
        )
    except PlanError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise PlanError(f'not a jobsync plan file: {err}', hint='pass a file written by `jobsync plan --out`') from None


