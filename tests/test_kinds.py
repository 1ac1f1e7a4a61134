"""The registry of per-kind facts (kinds.py) is consistent: every fact has its reason, the state
sets are disjoint, and what the JSON Schemas say about names agrees with the name rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobsync import kinds
from jobsync.model import KINDS, Kind

SCHEMAS = Path(__file__).resolve().parents[1] / 'schemas'
STATES = {'JOB_SCHEDULE': kinds.JOB_SCHEDULE, 'JOB_INSTANCE': kinds.JOB_INSTANCE,
          'CDM_SUBMISSION': kinds.CDM_SUBMISSION}


def _reasons() -> list[tuple[str, str]]:
    """(what, reason) for every fact in the registry."""
    out: list[tuple[str, str]] = []
    for kind, rules in kinds.FIELD_RULES.items():
        for section in ('server_managed', 'ignored', 'name_keyed'):
            out.extend((f'{kind} {section} {p}', r) for p, r in getattr(rules, section).items())
        out.extend((f'{kind} default {p}', r) for p, (_, r) in rules.defaults.items())
    out.extend((f'name rule {k}', r.reason) for k, r in kinds.NAME_RULES.items())
    out.extend((f'CDM secret suffix {s}', r) for s, r in kinds.CDM_SECRET_SUFFIXES.items())
    out.extend((f'connection secret key {s}', r) for s, r in kinds.CONNECTION_SECRET_KEYS.items())
    out.extend((f'mask {k}', r) for k, (_, r) in kinds.MASKS.items())
    out.extend((f'states {n}', s.reason) for n, s in STATES.items())
    out.extend((f'sent empty {k} {e.anchor}/{"/".join(e.path)}', e.reason)
               for k, rules in kinds.SENT_EMPTY.items() for e in rules)
    out.extend((f'text values {k} {p}', r) for k, rules in kinds.TEXT_VALUES.items() for p, r in rules.items())
    out.extend((f'fact {name}', r) for name, r in kinds.REASONS.items())
    return out


def test_every_fact_has_a_reason() -> None:
    missing = [what for what, reason in _reasons() if not (isinstance(reason, str) and len(reason) >= 8)]
    assert missing == []


def test_every_public_constant_is_a_fact_with_a_reason() -> None:
    """A constant is either a collection of facts carrying reasons or is named in REASONS."""
    with_reasons = {'FIELD_RULES', 'NAME_RULES', 'CDM_SECRET_SUFFIXES', 'CONNECTION_SECRET_KEYS', 'MASKS',
                    'SENT_EMPTY', 'TEXT_VALUES', 'REASONS', *STATES}
    constants = {name for name in vars(kinds) if name.isupper() and not name.startswith('_')}
    assert constants - with_reasons - set(kinds.REASONS) == set()
    assert set(kinds.REASONS) <= constants


def test_every_kind_has_its_facts() -> None:
    for table in (kinds.FIELD_RULES, kinds.NAME_FIELD, kinds.NAME_RULES):
        assert set(table) == set(KINDS)
    assert set(kinds.CDM_CONFIG_VALUES) == {'cdm-link', 'cdm-job'} == set(kinds.TEXT_VALUES) - {'job'}
    assert frozenset(kinds.MASKS) == kinds.SECRET_KINDS


@pytest.mark.parametrize('name', sorted(STATES))
def test_state_sets_are_disjoint(name: str) -> None:
    states = STATES[name]
    sets = {'running': states.running, 'succeeded': states.succeeded, 'failed': states.failed,
            'idle': states.idle}
    for a, sa in sets.items():
        for b, sb in sets.items():
            assert a == b or not sa & sb, (name, a, b, sa & sb)
    assert states.started <= states.running
    assert states.running and (states.succeeded or states.started) and states.failed


def test_states_settle_as_the_console_operations_expect() -> None:
    assert kinds.JOB_SCHEDULE.settled('SCHEDULING') is True and kinds.JOB_SCHEDULE.settled('STARTING') is None
    assert kinds.JOB_SCHEDULE.settled('EXCEPTION') is False and kinds.JOB_SCHEDULE.settled('STOPPED') is None
    assert kinds.CDM_SUBMISSION.settled('BOOTING') is None and kinds.CDM_SUBMISSION.settled('SUCCEEDED') is True
    assert kinds.CDM_SUBMISSION.settled('FAILURE_ON_SUBMIT') is False
    assert kinds.JOB_INSTANCE.settled('waiting') is None and kinds.JOB_INSTANCE.settled('manual-stop') is False
    assert {'SCHEDULING', 'STARTING', 'NORMAL', 'BOOTING', 'RUNNING'} == kinds.RUNNING_STATES


def _schema(kind: Kind) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / f'{kind}.schema.json').read_text())
    return data


@pytest.mark.parametrize('kind', KINDS)
def test_name_rules_agree_with_the_schemas(kind: Kind) -> None:
    prop = _schema(kind)['properties'][kinds.NAME_FIELD[kind]]
    rule = kinds.NAME_RULES[kind]
    assert prop.get('maxLength', rule.max_length) == rule.max_length
    assert prop.get('pattern') in (None, rule.pattern)


@pytest.mark.parametrize(('kind', 'name', 'problem'), [
    ('job', 'daily_sales.v2', None),
    ('job', 'x' * 129, 'at most 128'),
    ('job', 'a b', 'may contain only'),
    ('resource', 'etl.jar', 'may contain only'),
    ('cdm-job', 'mysql to dws (nightly)', None),
    ('cdm-link', 'a/b', 'must not hold /'),
    ('cdm-link', '..', 'must not hold /'),
    ('cdm-link', 'ok\x1b[32m', 'control characters'),
    ('connection', '', 'must not be empty'),
])
def test_name_problem(kind: Kind, name: str, problem: str | None) -> None:
    found = kinds.name_problem(kind, name)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(('kind', 'path', 'secret'), [
    ('connection', ('dw_config', 'password'), True),
    ('connection', ('dw_config', 'userPassword'), True),
    ('connection', ('dw_config', 'SecretKey'), True),
    ('connection', ('dw_config', 'sk'), True),
    ('connection', ('dw_config', 'keytab'), True),
    ('connection', ('dw_config', 'username'), False),
    ('connection', ('password',), False),
    ('cdm-link', ('link-config-values', 'configs', 'linkConfig', 'linkConfig.securityKey'), True),
    ('cdm-link', ('link-config-values', 'configs', 'linkConfig', 'linkConfig.accessKey'), False),
    ('cdm-job', ('from-config-values', 'configs', 'fromJobConfig', 'fromJobConfig.password'), True),
    ('job', ('nodes', '0', 'properties', 'password'), False),
    ('script', ('content',), False),
])
def test_secret_fields(kind: Kind, path: tuple[str, ...], secret: bool) -> None:
    assert kinds.is_secret_field(kind, path) is secret


def test_extra_secret_fields_from_jobsync_yaml() -> None:
    path = ('nodes', '3', 'properties', 'token')
    assert kinds.is_secret_field('job', path, ['/nodes/*/properties/token'])
    assert not kinds.is_secret_field('job', path, ['/nodes/*/properties/other'])


def test_mask_replaces_every_write_only_value_with_the_services_mask() -> None:
    conn: dict[str, Any] = {'dw_name': 'c',
                            'dw_config': {'host': 'h', 'password': 'pw1', 'sk': 'sk1', 'secret_key': 'sk2'}}
    masked = kinds.mask('connection', conn)
    assert masked['dw_config'] == {'host': 'h', 'password': '*********', 'sk': '*********',
                                   'secret_key': '*********'}
    assert conn['dw_config']['password'] == 'pw1'  # a copy: the input is untouched
    link: dict[str, Any] = {'name': 'l', 'link-config-values': {'configs': [{'name': 'linkConfig', 'inputs': [
        {'name': 'linkConfig.username', 'value': 'u'}, {'name': 'linkConfig.password', 'value': 'pw'},
        {'name': 'linkConfig.keytab', 'value': 'AAAA'}]}]}}
    inputs = kinds.mask('cdm-link', link)['link-config-values']['configs'][0]['inputs']
    assert [i['value'] for i in inputs] == ['u', 'Add password here', 'Add password here']
    job = {'name': 'j', 'nodes': [{'name': 'n', 'properties': [{'name': 'password', 'value': 'clear'}]}]}
    assert kinds.mask('job', job) == job


def test_every_write_only_field_masks_to_the_kinds_mask() -> None:
    """What is_secret_field calls write-only is exactly what mask replaces."""
    keys = [*kinds.CONNECTION_SECRET_KEYS, 'dbPassword', 'host', 'user']
    masked = kinds.mask('connection', {'dw_config': {k: 'v' for k in keys}})['dw_config']
    for key in keys:
        assert (masked[key] == kinds.MASKS['connection'][0]) is kinds.is_secret_field('connection', ('dw_config', key))


@pytest.mark.parametrize('spec', [
    {'driver-config-values': {'configs': [{'name': 'groupJobConfig', 'inputs': [
        {'name': 'groupJobConfig.groupName', 'value': 'nightly'}]}]}},
    {'driver-config-values': {'configs': {'groupJobConfig': {'groupJobConfig.groupName': 'nightly'}}}},
    {'group_name': 'nightly'},
])
def test_cdm_group_in_api_form_repo_form_and_read_only_field(spec: dict[str, Any]) -> None:
    assert kinds.cdm_group(spec) == 'nightly'
    assert kinds.cdm_group({}) == kinds.DEFAULT_CDM_GROUP == 'DEFAULT'


def test_full_body_sends_the_lists_that_clear_state() -> None:
    job = {'name': 'j', 'schedule': {'type': 'CRON', 'cron': {'expression': 'x'}},
           'nodes': [{'name': 'a'}, {'name': 'b', 'preNodeName': ['a'], 'cronTrigger': {'expression': 'y'}}]}
    body = kinds.full_body('job', job)
    assert body['params'] == [] and body['schedule']['cron']['dependJobs'] == {'jobs': []}
    assert [n['preNodeName'] for n in body['nodes']] == [[], ['a']]
    assert body['nodes'][1]['cronTrigger']['dependJobs'] == {'jobs': []} and 'cronTrigger' not in body['nodes'][0]
    assert 'params' not in job  # a copy
    assert kinds.full_body('resource', {'name': 'r'}) == {'name': 'r', 'dependFiles': []}
    assert kinds.full_body('script', {'name': 's'}) == {'name': 's'}
    event = {'name': 'e', 'schedule': {'type': 'EVENT'}, 'params': [{'name': 'p', 'value': '1'}]}
    assert kinds.full_body('job', event)['params'] == [{'name': 'p', 'value': '1'}]
    assert 'cron' not in kinds.full_body('job', event)['schedule']


def test_values_compared_as_text() -> None:
    assert [kinds.as_text(v) for v in (22, 1.5, True, False, 'x', None)] == ['22', '1.5', 'true', 'false', 'x', None]
    assert kinds.compared_as_text('job', '/nodes/*/properties/*/value_is_sensitive')
    assert kinds.compared_as_text('cdm-job', '/driver-config-values/configs/groupJobConfig/groupJobConfig.groupName')
    assert not kinds.compared_as_text('job', '/basicConfig/priority')


def test_no_field_is_both_managed_by_the_service_and_defaulted() -> None:
    for kind, rules in kinds.FIELD_RULES.items():
        assert not set(rules.server_managed) & set(rules.defaults), kind
        assert not set(rules.server_managed) & set(rules.ignored), kind


# --- no backend returns a secret: the embedded workspace masks what the registry says ------------

def _read_back(workspace: Any, key: Any, spec: dict[str, Any]) -> dict[str, Any]:
    workspace.import_objects([(key, spec)])
    read: dict[str, Any] = workspace.read([key])[key].spec
    return read


def test_the_embedded_workspace_masks_cdm_link_secrets_as_the_registry_does(local_workspace: Any) -> None:
    from workspace_specs import link_spec

    from jobsync.model import ObjectKey

    spec = link_spec('src', password='link-secret-1')
    spec['link-config-values']['configs'][0]['inputs'].append({'name': 'linkConfig.sk', 'value': 'sk-secret-1'})
    read = _read_back(local_workspace, ObjectKey('cdm-link', 'src', 'cdm-prod'), spec)
    assert read['link-config-values'] == kinds.mask('cdm-link', spec)['link-config-values']


def test_the_embedded_workspace_masks_connection_secrets_as_the_registry_does(local_workspace: Any) -> None:
    from workspace_specs import connection_spec

    from jobsync.model import ObjectKey

    spec = connection_spec('dws', password='dws-secret-1')
    spec['dw_config'].update({'sk': 'sk-secret-1', 'securityKey': 'sk-secret-2', 'keytab': 'kt-secret-3'})
    read = _read_back(local_workspace, ObjectKey('connection', 'dws'), spec)
    expected = kinds.mask('connection', spec)['dw_config']
    assert {k: v for k, v in read['dw_config'].items() if k in expected} == expected


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(['connection', 'resource', 'script', 'job', 'cdm-link', 'cdm-job']),
       st.lists(st.sampled_from(['dw_config', 'password', 'linkConfig.password', 'sk', 'keytab', 'x', 'nodes', '0']),
                max_size=4))
def test_a_kind_without_secret_fields_has_none_anywhere(kind: Kind, path: list[str]) -> None:
    # secrets.literal_secret_problems skips its walk where has_secret_fields says no.
    if not kinds.has_secret_fields(kind):
        assert not kinds.is_secret_field(kind, path)
