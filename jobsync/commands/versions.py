"""`jobsync versions JOB`: the versions the workspace keeps for a Factory job, as far as the API tells.

What the real API offers (checked against the official SDKs and the terraform provider):
DataArts Factory keeps a development version and numbered submitted versions of a job (every
create, update and import submits one); `ShowJob` (`GET /v1/{pid}/jobs/{job_name}`) answers the
latest submitted number in `version` and takes a `version` query to return that submitted
version [SDK huaweicloudsdkdgc `ShowJobRequest.version`, `ShowJobResponse.version`]. No operation
lists a job's versions: dgc has none, dataartsstudio's `search_versions` is DataArts
Architecture's model versions, and the terraform provider reads none. So this command shows the
current version number (versions are numbered 1..N, each fetchable), and `version=N` fetches one.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobsync import unfit
from jobsync.commands.console import Opened, Selection, select
from jobsync.errors import UsageError
from jobsync.model import ObjectKey, Spec

LIST_NOTE = ('the DataArts API lists no job versions: ShowJob answers the latest submitted version and '
             'takes a version number; `jobsync versions JOB --version N` shows version N')


@dataclass(frozen=True)
class JobVersions:
    key: ObjectKey
    current: int | None  # the latest submitted version (ShowJob `version`), None if it gave none
    shown: int | None = None  # the version asked for, when one was
    definition: Spec | None = None  # that version as ShowJob answers it


def _number(value: object) -> int | None:
    text = str(value) if value is not None else ''
    return int(text) if text.isdigit() else None


def job_versions(opened: Opened, name: str, version: int | None = None) -> JobVersions:
    """The job's current version number, and with `version` that version's definition."""
    specs, set_aside = select(opened, Selection(names=(name,)), kinds=frozenset({'job'}))  # inside the scope
    if set_aside:  # its name cannot be a file name (issue 12): it is not put in a URL path either
        raise UsageError(f'job {name!r} cannot be shown: {set_aside[0].message}', hint=unfit.HINT)
    (key,) = specs
    current = _number(opened.workspace.job_version(key.name).get('version'))
    if version is None:
        return JobVersions(key, current)
    return JobVersions(key, current, version, opened.workspace.job_version(key.name, version))
