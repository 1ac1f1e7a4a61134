"""The registry of per-kind facts: what jobsync knows about each kind of object, as data.

Every fact carries its reason: a section of the reference (`/work/shared/reference/
dataarts-api.md`, cited as `reference §N`), an SDK model, the docs or the terraform provider.
Every module asks here and keeps no copy of its own (design.md: one registry):

* field rules (`FIELD_RULES`): what the service manages, what is ignored, defaults, lists keyed
  by name; diff.py normalises both sides with them before comparing, as gitops-engine does;
* write-only fields (`is_secret_field`) and the masks the service reads them back as (`MASKS`,
  `mask`): load refuses literals there, and allows `${secret:...}` references only there; export
  writes references; diff never compares them; the engine masks them on read with `mask`;
* states (`JOB_SCHEDULE`, `JOB_INSTANCE`, `CDM_SUBMISSION`, `RUNNING_STATES`);
* CDM job types and the CDM group rule (`CDM_JOB_TYPES`, `cdm_group`);
* lists that must be sent empty (`SENT_EMPTY`, `full_body`);
* values compared as text (`TEXT_VALUES`, `as_text`) and where CDM config values sit
  (`CDM_CONFIG_VALUES`, `config_values`);
* name fields and name rules (`NAME_FIELD`, `NAME_RULES`, `name_problem`).

Pointers are JSON pointers in which `*` matches any one key or list index. Facts that are a
plain value (a tuple, a string) have their reason in `REASONS`, under the constant's name.

Field rules: `server_managed` and `ignored` apply to the API form, before name-keying;
`defaults` apply to the comparable form (pair lists as mappings, name-keyed lists as mappings
keyed by name), where a default is easiest to name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jobsync import jobdefaults
from jobsync.model import Kind

# --- field rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRules:
    """Per-pointer rules of one kind; every value is the reason (for defaults: (default, reason))."""

    server_managed: Mapping[str, str] = field(default_factory=dict)
    ignored: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, tuple[Any, str]] = field(default_factory=dict)
    # Lists whose items are identified by their `name`: compared item by item, in any order.
    name_keyed: Mapping[str, str] = field(default_factory=dict)


_SHOW_ONLY = 'returned by show, set by the service'
_CDM_READ_ONLY = 'read-only CDM field (reference §9.4)'
_REVIEW = "review-mode request parameter: the target's `review:` in jobsync.yaml sends it (workspace/review.py)"
_INPUT_TYPE = 'the service adds each input\'s type on GET (reference §9.3)'

FIELD_RULES: dict[Kind, FieldRules] = {
    'job': FieldRules(
        server_managed={
            '/id': _SHOW_ONLY, '/version': _SHOW_ONLY, '/lastUpdateUser': _SHOW_ONLY,
            '/lastUpdateTime': _SHOW_ONLY, '/createUser': _SHOW_ONLY, '/createTime': _SHOW_ONLY,
            '/description': 'show-only field; the job description lives in basicConfig.jobDescription',
            '/downstreamJobs': 'returned only with dependencies=true', '/status': 'schedule state, not definition',
            '/targetStatus': _REVIEW, '/approvers': _REVIEW,
        },
        ignored={
            '/location': 'canvas position of the job',
            '/nodes/*/location': 'canvas position: moving a node on the canvas is not a change',
        },
        # What exports fill in where a definition leaves it out, with the evidence per field (jobdefaults.py).
        defaults=jobdefaults.EXPORT_DEFAULTS,
        name_keyed={'/nodes': 'nodes are unique by name in a job', '/params': 'params are unique by name'},
    ),
    'script': FieldRules(
        server_managed={
            '/id': _SHOW_ONLY, '/version': 'latest submitted version', '/owner': _SHOW_ONLY,
            '/createUser': _SHOW_ONLY, '/autoAcquireLock': 'response field (reference §5)',
            '/lastUpdateTime': _SHOW_ONLY, '/lastUpdateUser': _SHOW_ONLY,
            '/targetStatus': _REVIEW, '/approvers': _REVIEW,
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
            '/agent_id': 'the CDM cluster id of agent_name: jobsync resolves and sends it, the service fills it'
                         ' (workspace/agents.py)',
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
                'DEFAULT', 'CDM puts jobs without a group in DEFAULT (reference §9.4)'),
        },
    ),
}


# --- names ---------------------------------------------------------------------------------------

# The field holding the object's name, per kind.
NAME_FIELD: dict[Kind, str] = {
    'connection': 'dw_name',
    'resource': 'name',
    'script': 'name',
    'job': 'name',
    'cdm-link': 'name',
    'cdm-job': 'name',
}


@dataclass(frozen=True)
class NameRule:
    """What the service accepts as a name: at most `max_length` characters matching `pattern`.

    `pattern` None: the service documents no character rule; jobsync then asks only what every
    name needs to be a file stem (no `/`, no control character, not `.` or `..`).
    """

    max_length: int
    pattern: str | None
    allowed: str  # the pattern in words, for messages
    reason: str


_FACTORY_NAME = r'^[A-Za-z0-9_.\u4e00-\u9fa5-]+$'
_FACTORY_ALLOWED = "letters, digits, '_', '-', '.' and Chinese characters"

NAME_RULES: dict[Kind, NameRule] = {
    'job': NameRule(128, _FACTORY_NAME, _FACTORY_ALLOWED,
                    'reference §4.2 (job name ≤128; the v2 SDK also allows Chinese)'),
    'script': NameRule(128, _FACTORY_NAME, _FACTORY_ALLOWED,
                       "reference §5 (script name ≤128; all official examples use '_')"),
    'resource': NameRule(32, r'^[A-Za-z0-9_-]+$', "letters, digits, '_' and '-'",
                         'reference §6 (resource name ≤32)'),
    'connection': NameRule(100, r'^[A-Za-z0-9_-]+$', "letters, digits, '_' and '-'",
                           'reference §7.1 (connection name ≤100)'),
    'cdm-link': NameRule(240, None, 'any printable character but /',
                         'reference §9.3 documents no rule; 240 as for CDM jobs (§9.4) [INF]'),
    'cdm-job': NameRule(240, None, 'any printable character but /', 'reference §9.4 (1-240 characters)'),
}

_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f/\u200e\u200f\u202a-\u202e\u2066-\u2069]')


def name_problem(kind: Kind, name: str) -> str | None:
    """Why `name` cannot be the name of a `kind` (None: it can), in words for a diagnostic."""
    rule = NAME_RULES[kind]
    if not name:
        return 'a name must not be empty'
    if len(name) > rule.max_length:
        return f'a {kind} name is at most {rule.max_length} characters, not {len(name)}'
    if name in ('.', '..') or _UNSAFE.search(name):
        return 'a name must not hold /, control characters or bidi overrides, nor be . or ..'
    if rule.pattern is not None and not re.match(rule.pattern, name):
        return f'a {kind} name may contain only {rule.allowed}'
    return None


# --- write-only fields ---------------------------------------------------------------------------

# CDM inputs whose names end so hold secrets (reference §9.3 "Secret-bearing inputs"; terraform
# `huaweicloud_cdm_link` keeps them write-only in state). The same inputs of CDM jobs count too.
CDM_SECRET_SUFFIXES: dict[str, str] = {
    '.password': 'linkConfig.password: generic-jdbc, hdfs, hbase, hive, ftp/sftp, mongodb, redis, kafka, es',
    '.securityKey': 'linkConfig.securityKey (with accessKey): obs, hbase, CloudTable',
    '.sk': 'linkConfig.sk (with ak): dis, dli, opentsdb',
    '.keytab': 'linkConfig.keytab (Kerberos file content): hdfs, hive, hbase',
}
# Data-connection `dw_config` keys holding secrets, compared in lower case; also any key ending
# in `password` (`userPassword`, `kafkaPassword`). The service masks them on read (reference §7.1).
CONNECTION_SECRET_KEYS: dict[str, str] = {
    'password': 'reference §7.1 (DWS, RDS, HOST, MRS agent)',
    'sk': 'the secret half of an AK/SK pair (DLI, DIS, OBS-backed connections)',
    'securitykey': 'the spelling CDM-backed connections use for the secret key (reference §9.3)',
    'secretkey': 'another spelling of the secret key',
    'secret_key': 'terraform `secret_key` (reference §12, cdm link mapping)',
    'keytab': 'Kerberos keytab content (reference §9.3)',
}

# What the service reads a write-only value back as, per kind with write-only fields.
MASKS: dict[Kind, tuple[str, str]] = {
    'connection': ('*********', 'connection GET shows passwords masked as `*********` (reference §7.1)'),
    'cdm-link': ('Add password here', 'CDM GET and console export replace link secrets (reference §9.3, §9.5)'),
    'cdm-job': ('Add password here', 'CDM masks secret job inputs as it masks link inputs [INF, §9.3]'),
}
# Kinds with built-in write-only fields: the others have them only through `secret_fields`.
SECRET_KINDS: frozenset[Kind] = frozenset(MASKS)


def _connection_secret(key: str) -> bool:
    low = key.lower()
    return low.endswith('password') or low in CONNECTION_SECRET_KEYS


def has_secret_fields(kind: Kind, extra: Sequence[str] = ()) -> bool:
    """Whether any field of `kind` is write-only (`is_secret_field` is never true otherwise)."""
    return bool(extra) or kind in ('connection', 'cdm-link', 'cdm-job')


def is_secret_field(kind: Kind, path: Sequence[str], extra: Sequence[str] = ()) -> bool:
    """Whether the field at `path` (repo-form segments) is write-only: never read back in clear.

    `extra` are pointers (with `*`) the user marked secret in jobsync.yaml `secret_fields`.
    """
    if any(matches(path, pattern) for pattern in extra):
        return True
    if kind == 'connection':
        return len(path) >= 2 and path[0] == 'dw_config' and _connection_secret(path[-1])
    if kind in ('cdm-link', 'cdm-job'):
        return len(path) >= 1 and path[-1].endswith(tuple(CDM_SECRET_SUFFIXES))
    return False


def mask(kind: Kind, spec: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an API-form spec with every write-only value replaced by the service's mask.

    What a backend returns on read: no backend returns a secret (workspace/base.py).
    """
    out: dict[str, Any] = _json_copy(spec)
    if kind not in MASKS:
        return out
    placeholder = MASKS[kind][0]
    if kind == 'connection':
        config = out.get('dw_config')
        if isinstance(config, dict):
            for key in config:
                if is_secret_field(kind, ('dw_config', key)):
                    config[key] = placeholder
        return out
    for values in config_values(kind, out):
        for config in values.get('configs') or []:
            inputs = config.get('inputs') if isinstance(config, dict) else None
            for item in inputs if isinstance(inputs, list) else []:
                if isinstance(item, dict) and isinstance(item.get('name'), str) and is_secret_field(
                        kind, (item['name'],)) and 'value' in item:
                    item['value'] = placeholder
    return out


# --- states --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class States:
    """The values of one status field, sorted by what they mean; the sets are disjoint.

    `running`: still going; for schedules and submissions the service refuses to overwrite the
    job meanwhile. `started`: the states a successful *start* reaches (a subset of `running`).
    `succeeded` / `failed`: settled. `idle`: known, settled neither way (stopped, never run).
    """

    reason: str
    running: frozenset[str]
    succeeded: frozenset[str] = frozenset()
    failed: frozenset[str] = frozenset()
    idle: frozenset[str] = frozenset()
    started: frozenset[str] = frozenset()

    def settled(self, status: str) -> bool | None:
        """True: succeeded (or started, for a start); False: failed; None: still going or unknown."""
        if status in self.succeeded or status in self.started:
            return True
        return False if status in self.failed else None


JOB_SCHEDULE = States(
    'Factory job schedule `status` (reference §4.5; terraform polls a start until SCHEDULING/NORMAL, '
    'EXCEPTION is a failure; real-time jobs pass through STARTING)',
    running=frozenset({'SCHEDULING', 'STARTING', 'NORMAL'}),
    failed=frozenset({'EXCEPTION'}),
    idle=frozenset({'STOPPED', 'PAUSED'}),
    started=frozenset({'SCHEDULING', 'NORMAL'}),
)
JOB_INSTANCE = States(
    'Factory job instance `status` (reference §4.5, SDK `job_instance.py`)',
    running=frozenset({'waiting', 'running', 'freeze', 'pause', 'waiting-confirm'}),
    succeeded=frozenset({'success', 'forceSuccess', 'ignoreSuccess', 'skip-by-depend'}),
    failed=frozenset({'fail', 'running-exception', 'manual-stop'}),
)
CDM_SUBMISSION = States(
    'CDM submission `status` (reference §9.4, SDK `start_job_submission.py`); NEW: a job never submitted',
    running=frozenset({'BOOTING', 'RUNNING'}),
    succeeded=frozenset({'SUCCEEDED'}),
    failed=frozenset({'FAILED', 'FAILURE_ON_SUBMIT', 'UNKNOWN', 'NEVER_EXECUTED'}),
    idle=frozenset({'NEW'}),
)
# A list entry's `status` (a Factory job's schedule, a CDM job's last submission) in which the
# service refuses to overwrite the job (reference §4.4, §9.6 `Cdm.0052`).
RUNNING_STATES: frozenset[str] = JOB_SCHEDULE.running | CDM_SUBMISSION.running


# --- CDM -----------------------------------------------------------------------------------------

CDM_JOB_TYPES: tuple[str, ...] = ('NORMAL_JOB', 'BATCH_JOB', 'SCENARIO_JOB')
# Where a CDM object's config values sit (reference §9.3 links, §9.4 jobs).
CDM_CONFIG_VALUES: dict[Kind, tuple[str, ...]] = {
    'cdm-link': ('link-config-values',),
    'cdm-job': ('from-config-values', 'to-config-values', 'driver-config-values'),
}
CDM_GROUP_CONFIG = 'groupJobConfig'
CDM_GROUP_INPUT = 'groupJobConfig.groupName'
DEFAULT_CDM_GROUP = 'DEFAULT'


def config_values(kind: Kind, spec: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The config-value objects (`{"configs": ...}`) of a CDM spec, in `CDM_CONFIG_VALUES` order."""
    for name in CDM_CONFIG_VALUES.get(kind, ()):
        values = spec.get(name)
        if isinstance(values, dict):
            yield values


def cdm_group(spec: Mapping[str, Any]) -> str:
    """A CDM job's group: `groupJobConfig.groupName` in `driver-config-values` (API or repo form),
    else the read-only `group_name` the service adds, else `DEFAULT`."""
    driver = spec.get('driver-config-values')
    configs = driver.get('configs') if isinstance(driver, dict) else None
    if isinstance(configs, dict):  # repo form: {config name: {input name: value}}
        inputs = configs.get(CDM_GROUP_CONFIG)
        value = inputs.get(CDM_GROUP_INPUT) if isinstance(inputs, dict) else None
        if value:
            return str(value)
    for config in configs if isinstance(configs, list) else []:
        if not (isinstance(config, dict) and config.get('name') == CDM_GROUP_CONFIG):
            continue
        inputs = config.get('inputs')
        for item in inputs if isinstance(inputs, list) else []:
            if isinstance(item, dict) and item.get('name') == CDM_GROUP_INPUT and item.get('value'):
                return str(item['value'])
    group = spec.get('group_name')
    return str(group) if group else DEFAULT_CDM_GROUP


# --- bodies and comparison -----------------------------------------------------------------------


@dataclass(frozen=True)
class EmptyList:
    """A list sent as `[]` when a definition leaves it out: inside every mapping `anchor`
    addresses, `path` (mappings, then the list) is created where missing."""

    anchor: str
    path: tuple[str, ...]
    reason: str


# The service merges an update with what it has: a list left out is kept, not emptied
# (reference §4.4; terraform had to always send `dependJobs.jobs` to remove a dependency, PR #5262).
_MERGED = 'an update keeps a list left out (reference §4.4)'
SENT_EMPTY: dict[Kind, tuple[EmptyList, ...]] = {
    'job': (
        EmptyList('', ('params',), f'{_MERGED}: removing the last parameter'),
        EmptyList('/nodes/*', ('preNodeName',), f'{_MERGED}: a node losing its upstream nodes'),
        EmptyList('/schedule/cron', ('dependJobs', 'jobs'), f'{_MERGED}: terraform PR #5262'),
        EmptyList('/nodes/*/cronTrigger', ('dependJobs', 'jobs'), f'{_MERGED}: as the job schedule'),
    ),
    'resource': (EmptyList('', ('dependFiles',), f'{_MERGED}: a resource losing its dependent files'),),
}


def full_body(kind: Kind, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The body to send for a create or update: `spec` with the `SENT_EMPTY` lists made explicit.

    Reading back `[]` where git has nothing is no change (diff.py treats empty as absent).
    """
    out: dict[str, Any] = _json_copy(spec)
    for rule in SENT_EMPTY.get(kind, ()):
        for container in find(out, rule.anchor):
            for segment in rule.path[:-1]:
                if not isinstance(container, dict):
                    break
                container = container.setdefault(segment, {})
            if isinstance(container, dict):
                container.setdefault(rule.path[-1], [])
    return out


# Mappings (in comparable form: pair lists as mappings) whose values compare as text: the
# service returns `22` for `"22"` and `false` for `"false"` (reference §9.3; node properties
# are strings in real exports, §4.8).
TEXT_VALUES: dict[Kind, dict[str, str]] = {
    'job': {'/nodes/*/properties': 'node property values are text (reference §4.2, §4.8)'},
    **{kind: {f'/{name}/configs/*': 'CDM input values come back retyped (reference §9.3)' for name in names}
       for kind, names in CDM_CONFIG_VALUES.items()},
}


def as_text(value: Any) -> Any:
    """A scalar as the text the service compares it as; other values unchanged."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return str(value)
    return value


def compared_as_text(kind: Kind, pattern: str) -> bool:
    """Whether a pointer addresses a value inside a `TEXT_VALUES` mapping (its default is text too)."""
    segments = _segments(pattern)
    return any(_prefix(_segments(p), segments) for p in TEXT_VALUES.get(kind, {}))


# --- pointers ------------------------------------------------------------------------------------

REASONS: dict[str, str] = {
    'NAME_FIELD': 'the API\'s name field per kind: Management-Center connections are snake_case '
                  '`dw_name` (reference §7.2), the others `name` (§4.2, §5, §6, §9.3, §9.4)',
    'CDM_JOB_TYPES': 'reference §9.4 `job_type`; listing all jobs returns NORMAL_JOB only unless asked (§9.1)',
    'CDM_CONFIG_VALUES': 'reference §9.3 (`link-config-values`), §9.4 (from-, to-, driver-config-values)',
    'CDM_GROUP_CONFIG': 'reference §9.4: driver-config-values config `groupJobConfig`',
    'CDM_GROUP_INPUT': 'reference §9.4: `groupJobConfig.groupName`',
    'DEFAULT_CDM_GROUP': 'reference §9.4: `groupJobConfig.groupName` defaults to DEFAULT',
    'SECRET_KINDS': 'the kinds `MASKS` names',
    'RUNNING_STATES': 'JOB_SCHEDULE.running and CDM_SUBMISSION.running (reference §4.4, §9.6)',
}


def _segments(pattern: str) -> tuple[str, ...]:
    return tuple(p.replace('~1', '/').replace('~0', '~') for p in pattern.split('/')[1:]) if pattern else ()


def _prefix(head: tuple[str, ...], path: tuple[str, ...]) -> bool:
    return len(head) <= len(path) and all(h in ('*', p) for h, p in zip(head, path, strict=False))


def matches(path: Sequence[str], pattern: str) -> bool:
    """Whether `path` (segments) is addressed by the JSON pointer `pattern`, where `*` matches one segment."""
    segments = _segments(pattern)
    return len(segments) == len(path) and all(s in ('*', p) for s, p in zip(segments, path, strict=True))


def find(value: Any, pattern: str) -> Iterator[Any]:
    """Every value `pattern` addresses inside `value` (`''`: the value itself)."""
    found = [value]
    for segment in _segments(pattern):
        nxt: list[Any] = []
        for item in found:
            if isinstance(item, dict):
                nxt.extend(item.values() if segment == '*' else [item[segment]] if segment in item else [])
            elif isinstance(item, list):
                if segment == '*':
                    nxt.extend(item)
                elif segment.isdigit() and int(segment) < len(item):
                    nxt.append(item[int(segment)])
        found = nxt
    yield from found


def _json_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_copy(v) for v in value]
    return value
