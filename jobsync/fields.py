"""Per-kind field rules, as data, each with its reason.

Both sides of a comparison are normalised by these rules right before diffing (diff.py), the
same way gitops-engine normalises before comparing: what the service manages is dropped, what
it fills with a default is folded, canvas positions are ignored, write-only values are never
compared. Pointers are JSON pointers in which `*` matches any one key or list index.

* `server_managed` and `ignored` apply to the API form, before name-keying;
* `defaults` apply to the comparable form (pair lists as mappings, name-keyed lists as
  mappings keyed by name), where a default is easiest to name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jobsync.model import Kind


@dataclass(frozen=True)
class FieldRules:
    server_managed: Mapping[str, str] = field(default_factory=dict)
    ignored: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, tuple[Any, str]] = field(default_factory=dict)
    # Lists whose items are identified by their `name`: compared item by item, in any order.
    name_keyed: Mapping[str, str] = field(default_factory=dict)


_SHOW_ONLY = 'returned by show, set by the service'
_CDM_READ_ONLY = 'read-only CDM field (reference §9.4)'
_INPUT_TYPE = 'the service adds each input\'s type on GET (reference §9.3)'

FIELD_RULES: dict[Kind, FieldRules] = {
    'job': FieldRules(
        server_managed={
            '/id': _SHOW_ONLY, '/version': _SHOW_ONLY, '/lastUpdateUser': _SHOW_ONLY,
            '/lastUpdateTime': _SHOW_ONLY, '/createUser': _SHOW_ONLY, '/createTime': _SHOW_ONLY,
            '/description': 'show-only field; the job description lives in basicConfig.jobDescription',
            '/downstreamJobs': 'returned only with dependencies=true', '/status': 'schedule state, not definition',
        },
        ignored={
            '/location': 'canvas position of the job',
            '/nodes/*/location': 'canvas position: moving a node on the canvas is not a change',
        },
        defaults={
            '/directory': ('/', 'jobs without a directory sit in /'),
            '/emptyRunningJob': ('0', 'dry run is off unless set'),
            '/singleNodeJobFlag': (False, 'reference §4.2'),
            '/params/*/type': ('variable', 'reference §4.2: variable is the default'),
            '/basicConfig/priority': (0, 'reference §4.2'),
            '/nodes/*/pollingInterval': (10, 'reference §4.2 node defaults'),
            '/nodes/*/maxExecutionTime': (60, 'reference §4.2 node defaults'),
            '/nodes/*/retryTimes': (0, 'reference §4.2 node defaults'),
            '/nodes/*/retryInterval': (120, 'reference §4.2 node defaults'),
            '/nodes/*/failPolicy': ('FAIL', 'reference §4.2 node defaults'),
            '/nodes/*/execTimeOutRetry': ('false', 'real exports carry "false"'),
            '/nodes/*/properties/*/value_is_sensitive': (False, 'real exports add it to every property'),
            '/schedule/cron/dependPrePeriod': (False, 'reference §4.2'),
            '/schedule/cron/dependJobs/dependPeriod': ('SAME_PERIOD', 'reference §4.2'),
            '/schedule/cron/dependJobs/dependFailPolicy': ('FAIL', 'reference §4.2'),
            '/schedule/event/failPolicy': ('SUSPEND', 'reference §4.2 Event'),
            '/schedule/event/concurrent': (1, 'reference §4.2 Event'),
            '/schedule/event/readPolicy': ('LAST', 'reference §4.2 Event'),
        },
        name_keyed={'/nodes': 'nodes are unique by name in a job', '/params': 'params are unique by name'},
    ),
    'script': FieldRules(
        server_managed={
            '/id': _SHOW_ONLY, '/version': 'latest submitted version', '/owner': _SHOW_ONLY,
            '/createUser': _SHOW_ONLY, '/autoAcquireLock': 'response field (reference §5)',
            '/lastUpdateTime': _SHOW_ONLY, '/lastUpdateUser': _SHOW_ONLY,
        },
        defaults={'/directory': ('/', 'scripts without a directory sit in /')},
    ),
    'resource': FieldRules(
        server_managed={
            '/id': 'resources are addressed by a generated id; jobsync addresses them by name',
            '/jobRelation': 'response only (reference §6)', '/lastUpdateTime': _SHOW_ONLY,
            '/createUser': _SHOW_ONLY,
        },
        defaults={'/directory': ('/', 'resources without a directory sit in /')},
    ),
    'connection': FieldRules(
        server_managed={
            '/dw_id': 'connections are addressed by a generated id', '/create_user': _SHOW_ONLY,
            '/create_time': _SHOW_ONLY, '/qualified_name': _SHOW_ONLY, '/dw_catagory': _SHOW_ONLY,
            '/update_type': _SHOW_ONLY, '/lastUpdateTime': _SHOW_ONLY,
            '/dw_config/update_time': 'a random value the service adds on every write (terraform ignores it too)',
        },
        defaults={'/env_type': (0, 'development is the default environment type')},
    ),
    'cdm-link': FieldRules(
        server_managed={
            '/creation-user': _CDM_READ_ONLY, '/creation-date': _CDM_READ_ONLY, '/update-user': _CDM_READ_ONLY,
            '/update-date': _CDM_READ_ONLY, '/id': _CDM_READ_ONLY,
            '/link-config-values/configs/*/inputs/*/type': _INPUT_TYPE,
        },
        defaults={'/enabled': (True, 'links are enabled unless disabled')},
    ),
    'cdm-job': FieldRules(
        server_managed={
            **{f'/{name}': _CDM_READ_ONLY for name in (
                'creation-user', 'creation-date', 'update-user', 'update-date', 'last-update-user', 'id',
                'status', 'is_incre_job', 'flag', 'files_read', 'external_id', 'type', 'execute_start_date',
                'delete_rows', 'enabled', 'bytes_written', 'is_use_sql', 'update_rows', 'group_name',
                'bytes_read', 'execute_update_date', 'write_rows', 'rows_written', 'rows_read',
                'files_written', 'is_incrementing', 'execute_create_date', 'lastUpdateTime',
            )},
            '/from-config-values/configs/*/inputs/*/type': _INPUT_TYPE,
            '/to-config-values/configs/*/inputs/*/type': _INPUT_TYPE,
            '/driver-config-values/configs/*/inputs/*/type': _INPUT_TYPE,
        },
        defaults={
            '/driver-config-values/configs/groupJobConfig/groupJobConfig.groupName': (
                'DEFAULT', 'CDM puts jobs without a group in DEFAULT'),
        },
    ),
}

# CDM inputs holding secrets (reference §9.3); the service reads them back as `Add password here`.
CDM_SECRET_SUFFIXES = ('.password', '.securityKey', '.sk', '.keytab')
# Data-connection config keys holding secrets; the service masks them on read.
CONNECTION_SECRET_KEYS = ('password', 'sk', 'securitykey', 'secretkey', 'secret_key', 'keytab')


def matches(path: Sequence[str], pattern: str) -> bool:
    """Whether `path` (segments) is addressed by the JSON pointer `pattern`, where `*` matches one segment."""
    segments = [p.replace('~1', '/').replace('~0', '~') for p in pattern.split('/')[1:]]
    return len(segments) == len(path) and all(s in ('*', p) for s, p in zip(segments, path, strict=True))


def is_secret_field(kind: Kind, path: Sequence[str], extra: Sequence[str] = ()) -> bool:
    """Whether the field at `path` (repo-form segments) is write-only: never read back in clear.

    `extra` are pointers (with `*`) the user marked secret in jobsync.yaml `secret_fields`.
    """
    if any(matches(path, pattern) for pattern in extra):
        return True
    if kind == 'connection':
        return len(path) >= 2 and path[0] == 'dw_config' and _connection_secret(path[-1])
    if kind in ('cdm-link', 'cdm-job'):
        return len(path) >= 1 and path[-1].endswith(CDM_SECRET_SUFFIXES)
    return False


def _connection_secret(key: str) -> bool:
    low = key.lower()
    return low.endswith('password') or low in CONNECTION_SECRET_KEYS
