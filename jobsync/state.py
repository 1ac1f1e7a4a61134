"""What jobsync last applied to a target, and the target's lock: records and their JSON. Pure.

Per target, jobsync keeps a small *state* in the workspace itself, so every CI runner sees the
same one: the objects jobsync manages and, for each, what it last applied there:

* `fingerprint`: the object's list `lastUpdateTime` right after the apply (the service sets it);
  a different value in a later listing means someone wrote the object since;
* `content_hash`: a hash of the definition applied, as loaded from git (API form, secret
  references included as text): a different hash of today's definition means git changed;
* `live_hash`: a hash of the form the workspace reads the object back as (secret fields dropped,
  diff.compared_forms): when both sides moved, it tells whether the workspace content really did;
* `git_rev`: the commit the definition came from;
* `secrets`: for each secret reference sent, a keyed fingerprint (HMAC-SHA256 under
  `JOBSYNC_FINGERPRINT_KEY`) of the value sent, so a later plan can say "secret changed" without
  ever holding or showing a value. Empty when no key was set.

With the state, plan classifies each object three ways (plan.py): changed in git only (import),
in the workspace only (drift), on both sides (conflict), and fetches content only for objects
whose fingerprint moved or whose definition changed.

The *lock* is a lease on the target held by apply: owner, CI run URL when known, expiry. A lease
past its expiry may be taken over; `jobsync force-unlock LOCK_ID` frees a stuck one.

Storage is the backend's business (workspace/base.py). Both records serialise to one JSON
document per target (`state_to_json`, `lock_to_json`), so that a backend without tables of its
own can keep each in one object of the workspace: the DataArts backend is meant to keep them in
reserved Factory scripts `jobsync_state_<target>` and `jobsync_lock_<target>` whose content is
the document (`RESERVED_PREFIXES`; plans never show them as unmanaged objects or drift).
The embedded `local:` backend keeps the same documents in tables of its SQLite file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from jobsync import jsontext
from jobsync.diff import compared_forms
from jobsync.errors import StateError
from jobsync.model import Kind, ObjectKey, Spec
from jobsync.scope import Scope

STATE_FORMAT_VERSION = 1
LOCK_FORMAT_VERSION = 1
STATE_SCRIPT_PREFIX = 'jobsync_state_'
LOCK_SCRIPT_PREFIX = 'jobsync_lock_'
RESERVED_PREFIXES = (STATE_SCRIPT_PREFIX, LOCK_SCRIPT_PREFIX)


def state_key(target: str, scope: Scope) -> str:
    """Where a target's state and lock are kept in its workspace: the target's name, plus a digest
    of its scope when it has one.

    Two repos sharing a workspace (each with its scope, the usual way for two teams) then keep
    two states and two locks, even when both call their target `prod`: neither ever treats the
    other's objects as its own, and they do not wait for each other. Changing a target's scope
    starts a new state (the next plan adopts what it finds, the next apply records it).
    """
    if scope.is_everything:
        return target
    text = json.dumps([sorted(scope.directories), sorted(scope.prefixes)], separators=(',', ':'))
    return f'{target}.{hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]}'


def is_reserved(key: ObjectKey) -> bool:
    """Objects jobsync keeps for itself in a workspace (state and lock scripts): never planned."""
    return key.kind == 'script' and key.name.startswith(RESERVED_PREFIXES)


# --- hashes and fingerprints --------------------------------------------------------------------

def _digest(value: Any) -> str:
    return 'sha256:' + hashlib.sha256(jsontext.canonical(value).encode('utf-8')).hexdigest()


def content_hash(kind: Kind, spec: Spec) -> str:
    """Hash of a definition as loaded from git (API form, secret references as text).

    The definition itself, not its comparable form: seven times cheaper to compute (a plan of
    10,000 jobs hashes 20,000 definitions), and independent of jobsync's field rules, so a
    jobsync upgrade that changes a rule does not make every object look changed in git. An
    edit that makes no difference (a node moved on the canvas) then reads as a git change;
    its content is fetched, the diff is empty, and the plan says no change.
    """
    del kind  # the key carries the kind; kept in the signature so the two hashes read alike
    return _digest(spec)


def live_hash(kind: Kind, desired: Spec, live: Spec | None = None) -> str:
    """Hash of what the workspace reads back: of `live`, or, without it, of what `desired` reads back as.

    Both use the secret fields of `desired` to drop (the service never returns them), so the
    hash of a live object equals the hash of the definition it was applied from when they match.
    """
    desired_form, live_form = compared_forms(kind, desired, live)
    return _digest(desired_form if live is None else live_form)


def secret_fingerprint(key: bytes, value: str) -> str:
    """Keyed fingerprint of a secret value: HMAC-SHA256, so nobody without the key can test guesses."""
    return 'hmac-sha256:' + hmac.new(key, value.encode('utf-8'), hashlib.sha256).hexdigest()


# --- the state ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ObjectState:
    """What jobsync last applied for one object (see the module docstring for each field)."""

    fingerprint: int
    content_hash: str
    live_hash: str
    git_rev: str
    secrets: Mapping[str, str] = field(default_factory=dict)  # reference text -> HMAC of the value sent


@dataclass(frozen=True)
class State:
    """A target's state. `serial` grows by one with every write; a write expecting another serial fails."""

    target: str
    serial: int
    objects: Mapping[ObjectKey, ObjectState]
    updated_at: int = 0  # epoch ms of the write
    git_rev: str = ''  # the rev of the last apply
    format_version: int = STATE_FORMAT_VERSION
    # `plan_digest` of the plan the last apply executed: a saved plan applied again is told so
    # ("already applied") instead of looking stale. '' when unknown (states written before).
    plan_digest: str = ''

    @property
    def managed(self) -> frozenset[ObjectKey]:
        return frozenset(self.objects)


def empty_state(target: str) -> State:
    """The state of a target jobsync has never applied to (serial 0: nothing stored yet)."""
    return State(target, 0, {})


def state_to_dict(state: State) -> dict[str, Any]:
    return {
        'format_version': state.format_version,
        'kind': 'jobsync-state',
        'target': state.target,
        'serial': state.serial,
        'updated_at': state.updated_at,
        'git_rev': state.git_rev,
        **({'plan_digest': state.plan_digest} if state.plan_digest else {}),
        'objects': {
            str(key): {
                'fingerprint': entry.fingerprint,
                'content_hash': entry.content_hash,
                'live_hash': entry.live_hash,
                'git_rev': entry.git_rev,
                **({'secrets': dict(sorted(entry.secrets.items()))} if entry.secrets else {}),
            }
            for key, entry in sorted(state.objects.items())
        },
    }


def state_to_json(state: State) -> str:
    """The state as one JSON document (what a backend stores; stable key order)."""
    return jsontext.pretty(state_to_dict(state)) + '\n'


def target_of(key: str) -> str:
    """The target name of a state key (`state_key`: the name, plus `.<digest>` for a scoped target)."""
    name, dot, digest = key.rpartition('.')
    return name if dot and len(digest) == 8 and all(c in '0123456789abcdef' for c in digest) else key


def reset_hint(key: str, kept_in: str = '') -> str:
    """What to do about a state that cannot be read: the command that drops it, and where it is kept."""
    where = f' (it is {kept_in})' if kept_in else ''
    return (f'drop it with `jobsync state reset --target {target_of(key)}`{where}; the next plan then compares '
            'git with the workspace only, and the next apply records a new state')


def state_from_json(text: str, *, where: str, key: str = '', kept_in: str = '') -> State:
    """Read a state document; `where` names its place in messages (`target prod in local:...`),
    `key` and `kept_in` (the state key, and where the backend keeps it) the hint of an unreadable one."""
    try:
        doc = jsontext.loads(text)
        version = doc.get('format_version')
        if doc.get('kind') != 'jobsync-state':
            raise ValueError('not a jobsync state document')
        if version != STATE_FORMAT_VERSION:
            raise StateError(
                f'the state of {where} has format_version {version!r}; this jobsync reads {STATE_FORMAT_VERSION}',
                hint='upgrade jobsync to the version that last applied to this target')
        parse = ObjectKey.parse
        objects = {  # positional: twenty thousand entries in a large state
            parse(key): ObjectState(int(raw['fingerprint']), str(raw['content_hash']), str(raw['live_hash']),
                                    str(raw['git_rev']), {str(k): str(v) for k, v in macs.items()}
                                    if (macs := raw.get('secrets')) else {})
            for key, raw in doc['objects'].items()
        }
        return State(str(doc['target']), int(doc['serial']), objects, int(doc.get('updated_at', 0)),
                     str(doc.get('git_rev', '')), version, str(doc.get('plan_digest', '')))
    except StateError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise StateError(f'the state of {where} cannot be read: {err}',
                         hint='it was not written by this jobsync, or was damaged; '
                              + reset_hint(key or where, kept_in)) from None


# --- the lock -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lock:
    """A lease on a target held by one apply."""

    id: str
    target: str
    owner: str
    acquired_at: int  # epoch ms
    expires_at: int  # epoch ms; past it, another apply may take the lock over
    run_url: str = ''  # the CI run holding it, when known
    format_version: int = LOCK_FORMAT_VERSION

    def expired(self, now: int) -> bool:
        return now >= self.expires_at

    def describe(self) -> str:
        """The holder, for people: 'alice@ci (run https://..., lock id 3f2a..., since ..., expires ...)'."""
        parts = [f'run {self.run_url}'] if self.run_url else []
        parts += [f'lock id {self.id}', f'since {format_ms(self.acquired_at)}', f'expires {format_ms(self.expires_at)}']
        return f'{self.owner} ({", ".join(parts)})'


def format_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def lock_to_json(lock: Lock) -> str:
    return json.dumps({
        'format_version': lock.format_version, 'kind': 'jobsync-lock', 'id': lock.id, 'target': lock.target,
        'owner': lock.owner, 'run_url': lock.run_url, 'acquired_at': lock.acquired_at,
        'expires_at': lock.expires_at,
    }, ensure_ascii=False) + '\n'


# The id `force-unlock` takes for a target's lock whose document cannot be read (so has no id).
UNREADABLE_LOCK = 'unreadable:'


def unreadable_lock(target: str) -> Lock:
    """What `force-unlock` reports freeing for `target`'s unreadable lock."""
    return Lock(UNREADABLE_LOCK + target, target, 'unknown (its lock document could not be read)', 0, 0)


def lock_from_json(text: str, *, where: str, target: str = '') -> Lock:
    try:
        doc = json.loads(text)
        if doc.get('kind') != 'jobsync-lock' or doc.get('format_version') != LOCK_FORMAT_VERSION:
            raise ValueError('not a jobsync lock document of a version this jobsync reads')
        return Lock(str(doc['id']), str(doc['target']), str(doc['owner']), int(doc['acquired_at']),
                    int(doc['expires_at']), str(doc.get('run_url') or ''))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        how = f'`jobsync force-unlock {UNREADABLE_LOCK}{target}`' if target else '`jobsync force-unlock`'
        raise StateError(f'the lock of {where} cannot be read: {err}',
                         hint=f'once no apply runs on it, free it with {how}') from None
