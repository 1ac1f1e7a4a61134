"""Every secret the service holds is masked here, on read, and nowhere else.

The service stores what it is sent (real secrets included) and never returns a secret value:
a data connection's secret `dw_config` keys read back as `*********` (reference §7.1), a CDM
link's or job's secret inputs as `Add password here` (reference §9.3). Which field is secret
is decided by ONE predicate, `is_secret`, taken from the per-kind field rules, so the engine
masks exactly what the rest of jobsync treats as write-only (a test holds the two together).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from jobsync.fields import is_secret_field
from jobsync.model import Kind, Spec

LINK_PASSWORD_PLACEHOLDER = 'Add password here'  # what CDM GET and console export return
CONNECTION_PASSWORD_MASK = '*********'  # what connection GET returns (reference §7.1)

# The CDM config-value lists of each CDM kind whose inputs are masked.
CDM_CONFIG_LISTS: dict[str, tuple[str, ...]] = {
    'cdm-link': ('link-config-values',),
    'cdm-job': ('from-config-values', 'to-config-values', 'driver-config-values'),
}


def is_secret(kind: Kind, path: Sequence[str]) -> bool:
    """Whether the field at `path` of a `kind` is secret (never read back in clear).

    `path` is the field's segments with list items named by their `name`: `('dw_config',
    'password')`, `('link-config-values', 'configs', 'linkConfig', 'inputs',
    'linkConfig.password')`. The one place the service asks; the rules live in the registry.
    """
    return is_secret_field(kind, path)


def mask_connection(spec: Spec) -> Spec:
    """A copy of a DataSourceVo with every secret `dw_config` value replaced by `*********`."""
    out = copy.deepcopy(spec)
    config = out.get('dw_config')
    if isinstance(config, dict):
        for key in config:
            if is_secret('connection', ('dw_config', str(key))):
                config[key] = CONNECTION_PASSWORD_MASK
    return out


def _mask_inputs(kind: Kind, spec: Spec) -> Spec:
    out = copy.deepcopy(spec)
    for list_name in CDM_CONFIG_LISTS[kind]:
        values = out.get(list_name)
        configs = values.get('configs') if isinstance(values, dict) else None
        for config in configs if isinstance(configs, list) else []:
            inputs: Any = config.get('inputs') if isinstance(config, dict) else None
            config_name = str(config.get('name', '')) if isinstance(config, dict) else ''
            for item in inputs if isinstance(inputs, list) else []:
                name = item.get('name') if isinstance(item, dict) else None
                if isinstance(name, str) and is_secret(kind, (list_name, 'configs', config_name, 'inputs', name)):
                    item['value'] = LINK_PASSWORD_PLACEHOLDER
    return out


def mask_link(spec: Spec) -> Spec:
    """A copy of a CDM link with every secret input's value replaced by `Add password here`."""
    return _mask_inputs('cdm-link', spec)


def mask_cdm_job(spec: Spec) -> Spec:
    """A copy of a CDM job with every secret input (from, to, driver) replaced by `Add password here`.

    [INF] The reference documents the placeholder for links; a job's inputs ending in a
    secret suffix are write-only by the same rule, so the service masks them the same way.
    """
    return _mask_inputs('cdm-job', spec)
