"""The DataArts service's own rules over SQLite, in API form: the embedded service model.

This is the workspace behind `local:PATH` and behind the HTTP emulator. Its methods map one to
one onto service routes, take and return API-form JSON, and fail with the service's own error
codes (`EngineError.code`, reference §11). It knows nothing of jobsync's repo form, plans or
keys beyond `ObjectKey`. One room per service family:

* `store.py`: the SQLite file, schema, connections, (project, workspace) scoping, the clock;
* `factory.py`: Factory jobs, instances, scripts, resources, versions;
* `packages.py`: job export, package import, system tasks;
* `management.py`: Management Center data connections;
* `cdm.py`: CDM clusters, links, jobs, submissions, groups;
* `masking.py`: every secret masked on read, by the field rules' one predicate;
* `errors.py`: `EngineError` and the service's error codes;
* `admin.py`: the console's workspace settings no route reaches (review switch, locked tags).

`Engine` is the whole service of one (project, workspace): the families composed.
"""

from __future__ import annotations

from jobsync.workspace.service.admin import Admin
from jobsync.workspace.service.cdm import CDM_JOB_TYPES, CDM_RUNNING_STATES, DEFAULT_CDM_GROUP, Cdm, cdm_group
from jobsync.workspace.service.errors import EngineError, StoreError
from jobsync.workspace.service.factory import JOB_RUNNING_STATES, Factory
from jobsync.workspace.service.management import Management
from jobsync.workspace.service.packages import Packages, SameNamePolicy

__all__ = [
    'CDM_JOB_TYPES', 'CDM_RUNNING_STATES', 'DEFAULT_CDM_GROUP', 'JOB_RUNNING_STATES',
    'Engine', 'EngineError', 'SameNamePolicy', 'StoreError', 'cdm_group',
]


class Engine(Packages, Factory, Management, Cdm, Admin):
    """One (project, workspace) of a DataArts service, stored in a SQLite file.

    Thread-safe (each call borrows a pooled connection); several processes may share the file.
    Every write is one transaction. See `store.Space` for the clock and run times.
    """

    def scoped(self, project: str, workspace: str, *, user: str | None = None) -> Engine:
        """A view of another (project, workspace) in the same database (same clock and run times)."""
        return Engine(
            self.path, project=project, workspace=workspace, user=user or self.user,
            cdm_run_ms=self.cdm_run_ms, instance_run_ms=self.instance_run_ms, failing_jobs=self.failing_jobs,
            _store=self._store,
        )
