"""Every secret the service holds is masked here, on read, and nowhere else.

The service stores what it is sent (real secrets included) and never returns a secret value:
a data connection's secret `dw_config` keys read back as `*********` (reference §7.1), a CDM
link's or job's secret inputs as `Add password here` (reference §9.3). Which field is secret and
what its mask is are the registry's (`jobsync.kinds`): the service masks exactly what the rest
of jobsync treats as write-only (tests/test_service_masking.py holds the two together).
"""

from __future__ import annotations

from jobsync import kinds
from jobsync.model import Spec

LINK_PASSWORD_PLACEHOLDER = kinds.MASKS['cdm-link'][0]
CONNECTION_PASSWORD_MASK = kinds.MASKS['connection'][0]


def mask_connection(spec: Spec) -> Spec:
    """A copy of a DataSourceVo with every secret `dw_config` value replaced by `*********`."""
    return kinds.mask('connection', spec)


def mask_link(spec: Spec) -> Spec:
    """A copy of a CDM link with every secret input's value replaced by `Add password here`."""
    return kinds.mask('cdm-link', spec)


def mask_cdm_job(spec: Spec) -> Spec:
    """A copy of a CDM job with every secret input (from, to, driver) replaced by `Add password here`."""
    return kinds.mask('cdm-job', spec)
