"""Answer shapes the official SDK response models define, for the answers where the engine holds
more than the model says (issue 11: the emulator's contract is the SDK's models).

Each tree lists a model's JSON keys ([SDK] huaweicloudsdkdgc 3.1.219 `v1/model/*.py`
`attribute_map`); a key maps to `None` (keep the value as is) or to the tree of its sub-model (a
dict is shaped by it, a list's dict items each). `tests/test_sdk_conformance.py` checks the
answers against the model classes themselves, so a tree that drifts from the SDK fails there.
"""

from __future__ import annotations

from typing import Any

Tree = dict[str, Any]

_DEPEND_WORKSPACE_JOB: Tree = dict.fromkeys(
    ('dependOnLastPeriod', 'jobName', 'workSpaceId', 'workSpace', 'dependType', 'dependOnLastNPeriodValue'))
_DEPEND_JOB: Tree = {'jobs': None, 'dependPeriod': None, 'dependFailPolicy': None,
                     'sameWorkSpaceJobs': _DEPEND_WORKSPACE_JOB, 'otherWorkSpaceJobs': _DEPEND_WORKSPACE_JOB}
_EVENT: Tree = dict.fromkeys(('eventType', 'channel', 'failPolicy', 'concurrent', 'readPolicy'))
_NODE: Tree = {
    **dict.fromkeys(('name', 'type', 'preNodeName', 'pollingInterval', 'execTimeOutRetry', 'maxExecutionTime',
                     'retryTimes', 'retryInterval', 'failPolicy')),
    'location': dict.fromkeys(('x', 'y')),
    'conditions': dict.fromkeys(('preNodeName', 'expression')),
    'properties': dict.fromkeys(('name', 'value')),  # ModelProperty: no `value_is_sensitive` (exports only)
    'eventTrigger': _EVENT,
    'cronTrigger': {**dict.fromkeys(('startTime', 'endTime', 'expression', 'expressionTimeZone', 'period',
                                     'dependPrePeriod', 'concurrent')), 'dependJobs': _DEPEND_JOB},
}
# ShowJobResponse: a stored console `.job` keeps its export-file keys (`location`, `maskedParams`,
# `resouces`, `scheduleOffset`, `cron.concurrent`, ...) in the engine for export; show drops them
# (notes/emulator-deviations.md; reference §14 "echo unknown fields" is against the SDK contract).
SHOW_JOB: Tree = {
    **dict.fromkeys(('name', 'directory', 'processType', 'id', 'createTime', 'singleNodeJobFlag',
                     'singleNodeJobType', 'lastUpdateUser', 'logPath', 'description', 'cleanOverdueDays',
                     'cleanWaitingJob', 'emptyRunningJob', 'version')),
    'nodes': _NODE,
    'schedule': {'type': None, 'event': _EVENT,
                 'cron': {**dict.fromkeys(('startTime', 'endTime', 'expression', 'expressionTimeZone',
                                           'dependPrePeriod', 'intervalType')), 'dependJobs': _DEPEND_JOB}},
    'params': dict.fromkeys(('name', 'value', 'type')),
    'downstreamJobs': dict.fromkeys(('workSpace', 'jobName', 'jobId')),
    'basicConfig': dict.fromkeys(('owner', 'agency', 'isIgnoreWaiting', 'priority', 'taskPriority', 'executeUser',
                                  'instanceTimeout', 'customFields', 'tags')),
}
# ListSystemTasksResponse / SubTaskStatus (`GET /v1/{pid}/system-tasks/{task_id}`).
SYSTEM_TASK: Tree = {
    **dict.fromkeys(('id', 'name', 'startTime', 'endTime', 'lastUpdate', 'status', 'message')),
    'subtasks': dict.fromkeys(('id', 'name', 'lastUpdate', 'status', 'message')),
}


def shape(value: Any, tree: Tree) -> Any:
    """`value` cut to the keys of `tree`, recursively (lists of models item by item)."""
    if isinstance(value, list):
        return [shape(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key not in tree:
            continue
        sub = tree[key]
        out[key] = item if sub is None else shape(item, sub)
    return out
