"""CDM job runs around writes: what the DataArts client does before deleting a CDM job and
after starting one (called one line each from client.py). What `plan` says about them is the
pure `jobsync/runnotes.py`.

* A start's answer is checked: `StartJobResponse.submissions[0].status` of `FAILURE_ON_SUBMIT`,
  `FAILED` or `NEVER_EXECUTED` is a failed start, as the provider treats it
  [TF `resource_huaweicloud_cdm_job.go` l.712-720; SDK `start_job_submission.py`]
  (notes/issue11-facts.md §7).
* A running CDM job (`BOOTING`/`RUNNING`) is stopped before it is deleted: the service refuses
  to delete a running job (`Cdm.0052`), and the provider stops first [TF l.398-415]. The stop is
  then waited for on the job's status, at most `STOP_POLLS` reads `poll_seconds` apart.
* Overwriting a running CDM job (it is copying data) does not stop the copy by default: the
  write waits for the run to finish, at most `CdmRunPolicy.wait_seconds` (0: no wait), and is
  then refused with a clear message, unless the policy says to stop it (`stop_running`). The
  job is not started again afterwards: a new run is nobody's request. (The provider stops a
  running job before an update [TF l.335-343]; jobsync asks first, issue 11.)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobsync.kinds import CDM_SUBMISSION
from jobsync.model import ObjectKey
from jobsync.workspace.transport import ApiError


@dataclass(frozen=True)
class CdmRunPolicy:
    """What a write does to a CDM job that is running (module docstring)."""

    wait_seconds: float = 0.0
    stop_running: bool = False
    poll_seconds: float = 5.0
    sleep: Callable[[float], None] = time.sleep


FAILED_START = frozenset({'FAILURE_ON_SUBMIT', 'FAILED', 'NEVER_EXECUTED'})
STOP_POLLS = 30


def check_start(key: ObjectKey, body: Any) -> None:
    """Raise `ApiError` when a CDM start's answer says the submission failed."""
    subs = body.get('submissions') if isinstance(body, dict) else None
    first = subs[0] if isinstance(subs, list) and subs and isinstance(subs[0], dict) else {}
    status = str(first.get('status') or '')
    if status in FAILED_START:
        detail = first.get('error-summary') or first.get('error-details') or ''
        raise ApiError(f'{key}: the CDM job was not started: the service answered {status}'
                       + (f' ({detail})' if detail else ''), code=status,
                       hint='look at the job\'s submissions in the CDM console')


def stop_before_delete(key: ObjectKey, status: Callable[[ObjectKey], str], stop: Callable[[ObjectKey], None],
                       *, poll_seconds: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> None:
    """Stop a running CDM job and wait until it no longer runs (a missing job: nothing to do)."""
    if key.kind != 'cdm-job':
        return
    try:
        if status(key) not in CDM_SUBMISSION.running:
            return
        stop(key)
        for _ in range(STOP_POLLS):
            if status(key) not in CDM_SUBMISSION.running:
                return
            sleep(poll_seconds)
    except ApiError as err:
        if err.not_found:
            return
        raise
    raise ApiError(f'{key}: still running after it was stopped; not deleted', code='Cdm.0052',
                   hint='stop the job in the CDM console, then apply again')


def before_overwrite(key: ObjectKey, status: Callable[[ObjectKey], str], stop: Callable[[ObjectKey], None],
                     policy: CdmRunPolicy) -> None:
    """Wait for a running CDM job's run to end (bounded), stop it if the policy says so, or refuse."""
    if key.kind != 'cdm-job':
        return
    try:
        running = status(key) in CDM_SUBMISSION.running
    except ApiError as err:
        if err.not_found:
            return
        raise
    if not running:
        return
    if policy.stop_running:
        stop_before_delete(key, status, stop, poll_seconds=policy.poll_seconds, sleep=policy.sleep)
        return
    polls = math.ceil(policy.wait_seconds / policy.poll_seconds) if policy.poll_seconds > 0 else 0
    for _ in range(polls):
        policy.sleep(policy.poll_seconds)
        if status(key) not in CDM_SUBMISSION.running:
            return
    waited = f' after waiting {policy.wait_seconds:g} s' if polls else ''
    raise ApiError(f'{key}: the CDM job is running (copying data){waited}; not overwritten', code='Cdm.0052',
                   hint='apply again when its run has finished, let apply wait for it (--cdm-wait 10m), or stop it'
                        ' (--stop-running-cdm-jobs)')
