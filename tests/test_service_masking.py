"""The service masks exactly what the field rules call secret, and nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from workspace_specs import cdm_job_spec, connection_spec, link_spec

from jobsync.kinds import CDM_SECRET_SUFFIXES, CONNECTION_SECRET_KEYS, is_secret_field
from jobsync.model import Kind
from jobsync.workspace.service import Engine
from jobsync.workspace.service.masking import CONNECTION_PASSWORD_MASK, LINK_PASSWORD_PLACEHOLDER

# Every key the rules name, spelt as users spell them, and keys that are not secret.
CONNECTION_KEYS = [*CONNECTION_SECRET_KEYS, 'PASSWORD', 'kafkaPassword', 'securityKey', 'secretKey', 'SK',
                   'user', 'host', 'ak', 'accessKey', 'keytab_path_hint']
CDM_INPUTS = [*(f'linkConfig{suffix}' for suffix in CDM_SECRET_SUFFIXES),
              'linkConfig.accessKey', 'linkConfig.ak', 'linkConfig.host', 'linkConfig.passwordless']


def _connection_id(engine: Engine, name: str) -> str:
    (entry,) = engine.list_connections(name=name)['data_connection_lists']
    return str(entry['dw_id'])


@pytest.mark.parametrize('key', CONNECTION_KEYS)
def test_connection_config_is_masked_as_the_rules_say(engine: Engine, key: str) -> None:
    spec = connection_spec('dws')
    spec['dw_config'][key] = 'value-1234'
    engine.create_connection(spec)
    shown = engine.show_connection(_connection_id(engine, 'dws'))['dw_config'][key]
    secret = is_secret_field('connection', ('dw_config', key))
    assert shown == (CONNECTION_PASSWORD_MASK if secret else 'value-1234')


def test_a_connection_made_with_sk_and_keytab_reads_back_masked(engine: Engine) -> None:
    spec = connection_spec('mrs', password='pw-secret')
    spec['dw_config'].update(sk='sk-secret-value', keytab='keytab-secret-bytes', ak='AK-visible')
    dw_id = engine.create_connection(spec)
    config = engine.show_connection(dw_id)['dw_config']
    assert (config['sk'], config['keytab'], config['password']) == (CONNECTION_PASSWORD_MASK,) * 3
    assert config['ak'] == 'AK-visible'
    everything = json.dumps([engine.show_connection(dw_id), engine.list_connections()])
    for secret in ('sk-secret-value', 'keytab-secret-bytes', 'pw-secret'):
        assert secret not in everything


@pytest.mark.parametrize('name', CDM_INPUTS)
def test_cdm_link_and_job_inputs_are_masked_as_the_rules_say(engine: Engine, name: str) -> None:
    cluster = engine.create_cluster('c')
    link = link_spec('src')
    link['link-config-values']['configs'][0]['inputs'].append({'name': name, 'value': 'value-1234'})
    engine.create_link(cluster, link)
    job = cdm_job_spec('copy', source='src', target='src')
    job_inputs = [{'name': name, 'value': 'value-1234'}]
    job['from-config-values'] = {'configs': [{'name': 'fromJobConfig', 'inputs': job_inputs}]}
    engine.create_cdm_job(cluster, job)
    views: list[tuple[Kind, dict[str, Any], str]] = [
        ('cdm-link', engine.show_link(cluster, 'src'), 'link-config-values'),
        ('cdm-link', engine.list_links(cluster)['links'][0], 'link-config-values'),
        ('cdm-job', engine.show_cdm_job(cluster, 'copy'), 'from-config-values'),
        ('cdm-job', engine.list_cdm_jobs(cluster)['jobs'][0], 'from-config-values'),
    ]
    for kind, shown, values in views:
        inputs = {i['name']: i['value'] for c in shown[values]['configs'] for i in c['inputs']}
        secret = is_secret_field(kind, (values, 'configs', '*', 'inputs', name))
        assert inputs[name] == (LINK_PASSWORD_PLACEHOLDER if secret else 'value-1234'), (kind, name)
