"""What `plan` says apply will do to running jobs (pure: from the plan's changes and the listed
statuses). The I/O that does it is `workspace/cdmruns.py` (CDM) and apply.py (Factory jobs); this
module sits in the core so plan.py needs nothing of the workspace layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jobsync.kinds import CDM_SUBMISSION, JOB_SCHEDULE
from jobsync.model import ObjectKey


def run_notes(changes: Iterable[Any], live: Mapping[ObjectKey, Any]) -> list[str]:
    """What `plan` says apply will do to running jobs: a Factory job updated while its schedule
    runs is stopped and restarted (apply.py); a running CDM job is stopped before it is deleted,
    and an update of one waits for its copy (or stops it, per the target's settings)."""
    stop_restart: list[str] = []
    cdm_delete: list[str] = []
    cdm_update: list[str] = []
    for change in changes:
        action = getattr(change.action, 'value', change.action)
        current = live.get(change.key)
        status = getattr(current, 'status', None)
        if change.key.kind == 'job' and action == 'update' and status in JOB_SCHEDULE.running:
            stop_restart.append(str(change.key))
        elif change.key.kind == 'cdm-job' and status in CDM_SUBMISSION.running:
            if action == 'delete':
                cdm_delete.append(str(change.key))
            elif action == 'update':
                cdm_update.append(str(change.key))
    notes: list[str] = []
    if stop_restart:
        notes.append('apply will stop and restart these running jobs to overwrite them: ' + ', '.join(stop_restart))
    if cdm_delete:
        notes.append('apply will stop these running CDM jobs before deleting them: ' + ', '.join(cdm_delete))
    if cdm_update:
        notes.append('these CDM jobs are running: apply refuses to overwrite them unless it may wait for their copy'
                     ' to finish (--cdm-wait, cdm_wait_seconds) or stop it (--stop-running-cdm-jobs,'
                     ' stop_running_cdm_jobs); they are not restarted: ' + ', '.join(cdm_update))
    return notes
