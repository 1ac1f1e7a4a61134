"""The bodies the DataArts client sends and reads, beyond the route table: full write bodies,
CDM values decoded, timestamps, and the error codes that decide what a write does next.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

import orjson

from jobsync import kinds
from jobsync.model import Kind, Spec

# The codes a create answers when the name is taken (reference §4.8, §5, §6, §7, §9).
ALREADY_EXISTS = frozenset({'DLF.0102', 'DLF.0202', 'DLF.6259', 'DLF.6309', 'Cdm.0104', 'Cdm.0315', 'Cdm.0318'})
# Answers that mean every further call would fail the same way: stop writing.
FATAL_CODES = frozenset({'APIGW.0101', 'APIGW.0301', 'APIGW.0302', 'DLF.0819', 'DLF.20819', 'DAYU.3601'})


def decode_cdm_values(spec: Spec) -> Spec:
    """A CDM link or job with every string input value URL-decoded (reference §9.3: GET returns
    them encoded; terraform decodes each with `url.PathUnescape`, which keeps `+`)."""
    out = dict(spec)
    for field in kinds.CDM_CONFIG_VALUES['cdm-link'] + kinds.CDM_CONFIG_VALUES['cdm-job']:
        values = out.get(field)
        if not isinstance(values, dict) or not isinstance(values.get('configs'), list):
            continue
        configs = []
        for config in values['configs']:
            if isinstance(config, dict) and isinstance(config.get('inputs'), list):
                inputs = [{**item, 'value': unquote(item['value'])}
                          if isinstance(item, dict) and isinstance(item.get('value'), str) else item
                          for item in config['inputs']]
                config = {**config, 'inputs': inputs}
            configs.append(config)
        out[field] = {**values, 'configs': configs}
    return out


# Kinds whose server-managed fields are dropped from every write body. A console `.job` kept as
# is holds `id`, `version`, `lastUpdateUser`, ...: sent, an `id` copied from another workspace
# names a job there (issue 11; the SDK's `UpdateJobRequestBody`/`CreateJobRequestBody` model none
# of `lastUpdateUser`, `createUser`, `status`; `id` and `version` are show-answer fields
# [SDK dgc `show_job_response.py`]). Scripts likewise (`id`, `version`, `owner` are answers).
UNSENT_SERVER_FIELDS: frozenset[str] = frozenset({'job', 'script'})


# Server-managed in the comparison but still the user's to send: a job's top-level
# `description` is a show field the body takes (kept as it was sent before issue 11).
_STILL_SENT = frozenset({'/description'})


def full_body(kind: Kind, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The body a write sends: the lists that must go empty sent empty (kinds.SENT_EMPTY), and
    for jobs and scripts no top-level field the service manages (FIELD_RULES.server_managed)."""
    body = kinds.full_body(kind, spec)
    if kind in UNSENT_SERVER_FIELDS:
        for pattern in kinds.FIELD_RULES[kind].server_managed:
            if pattern not in _STILL_SENT and pattern.count('/') == 1:
                body.pop(pattern[1:], None)
    return body


def without_export_flags(job: Spec) -> Spec:
    """An exported job without the `"value_is_sensitive": false` real exports add to every node
    property (issue 11 facts §2, [3P] reference §4.8): read back, the job is what was written. A true
    flag is kept (it says something)."""
    nodes = job.get('nodes')
    if not isinstance(nodes, list):
        return job
    out = []
    for node in nodes:
        if isinstance(node, dict) and isinstance(node.get('properties'), list):
            node = {**node, 'properties': [
                {k: v for k, v in p.items() if k != 'value_is_sensitive'}
                if isinstance(p, dict) and p.get('value_is_sensitive', True) is False else p
                for p in node['properties']]}
        out.append(node)
    return {**job, 'nodes': out}


def fingerprint(entry: Mapping[str, Any], drop: Iterable[str] = ()) -> int:
    """A change marker made of an object's own content, for kinds whose list entries carry no update
    time (issue 11: [SDK] dgc `ScriptInfo`/`ResourceInfo` and dataartsstudio `ApigDataSourceView` have
    none): a 60-bit digest of the canonical JSON of `entry` without the `drop` keys. Plans and state
    compare markers for equality only, so any edit of the content moves it."""
    skip = set(drop)
    doc = {k: v for k, v in entry.items() if k not in skip} if skip or not isinstance(entry, dict) else entry
    try:
        # orjson writes what json.dumps writes for ASCII text without floats (every listing seen),
        # ten times faster: the markers recorded by an older jobsync stay the same.
        text = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        text = b''
    # json escapes what is not printable ASCII (DEL too, which orjson writes as it is): its own text, as before.
    if not text.isascii() or b'\x7f' in text or not text:
        text = json.dumps(doc, sort_keys=True, default=str, separators=(',', ':')).encode()
    return int(hashlib.sha256(text).hexdigest()[:15], 16)


def updated_ms(entry: Mapping[str, Any], *fallbacks: str) -> int:
    """An entry's `lastUpdateTime` (epoch ms; jobs: [SDK] dgc `JobResult.lastUpdateTime`), or the
    first fallback field the service fills (CDM: `update-date`, [SDK] cdm `Links`/`Job`)."""
    for name in ('lastUpdateTime', *fallbacks):
        value = entry.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return 0
