"""Secret references: `${secret:PROVIDER:KEY}` in git, values only inside apply, never in output.

At load time every string holding a reference becomes a `SecretText` (pure). Plans, renderers
and JSON carry only the reference text. Apply calls `fill_secrets` per object just before its
write; the `Redactor` learns each value and scrubs it from everything jobsync prints or writes.

A reference may stand only in a field the service keeps write-only (kinds.is_secret_field, plus
jobsync.yaml `secret_fields`): anywhere else the service would store the resolved value in clear,
and since a field holding a reference is never compared, a change there would go unseen.
`reference_problems` is load's check of that.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Protocol

from jobsync.errors import Diagnostic, SecretError
from jobsync.kinds import MASKS, has_secret_fields, is_secret_field
from jobsync.model import Kind

REF_PATTERN = re.compile(r'\$\{secret:([a-z][a-z0-9_-]*):([^}\s]+)\}')
# What the service reads write-only values back as (CDM: `Add password here`, connections: `*********`).
PLACEHOLDERS = frozenset(mask for mask, _reason in MASKS.values())
MIN_SECRET_LENGTH = 4  # shorter values would be scrubbed from every word of output
MASK = '********'


@dataclass(frozen=True)
class SecretRef:
    provider: str
    key: str

    def __str__(self) -> str:
        return f'${{secret:{self.provider}:{self.key}}}'


@dataclass(frozen=True)
class SecretText:
    """A string value holding one or more references, possibly inside other text (`Bearer ${secret:env:T}`)."""

    parts: tuple[str | SecretRef, ...]

    def __str__(self) -> str:
        return ''.join(str(p) for p in self.parts)

    @property
    def refs(self) -> tuple[SecretRef, ...]:
        return tuple(p for p in self.parts if isinstance(p, SecretRef))


def parse_text(text: str) -> str | SecretText:
    """Return `text` unchanged, or a SecretText if it holds references."""
    parts: list[str | SecretRef] = []
    pos = 0
    for match in REF_PATTERN.finditer(text):
        if match.start() > pos:
            parts.append(text[pos:match.start()])
        parts.append(SecretRef(match.group(1), match.group(2)))
        pos = match.end()
    if not parts:
        return text
    if pos < len(text):
        parts.append(text[pos:])
    return SecretText(tuple(parts))


def parse_placeholders(value: Any) -> Any:
    """Walk a JSON value and turn every string holding a reference into a SecretText."""
    if isinstance(value, str):
        return parse_text(value)
    if isinstance(value, dict):
        return {k: parse_placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [parse_placeholders(v) for v in value]
    return value


def to_jsonable(value: Any) -> Any:
    """The value with every SecretText written back as its reference text."""
    if isinstance(value, SecretText):
        return str(value)
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value


def iter_secrets(value: Any, pointer: str = '') -> Iterator[tuple[str, SecretText]]:
    """Every (JSON pointer, SecretText) inside a value."""
    if isinstance(value, SecretText):
        yield pointer, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from iter_secrets(v, f'{pointer}/{escape_pointer(str(k))}')
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from iter_secrets(v, f'{pointer}/{i}')


def escape_pointer(segment: str) -> str:
    return segment.replace('~', '~0').replace('/', '~1')


class SecretProvider(Protocol):
    """One source of secret values. Adding a cloud secret manager is one new class."""

    def resolve(self, key: str) -> str:
        """The value for `key`; raises SecretError (naming the key, never a value) if absent."""
        ...

    def exists(self, key: str) -> bool: ...


class EnvProvider:
    """`${secret:env:NAME}`: the environment variable NAME."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def resolve(self, key: str) -> str:
        if key not in self._environ:
            raise SecretError(f'environment variable {key} is not set', hint=f'export {key}=... before apply')
        return self._environ[key]

    def exists(self, key: str) -> bool:
        return key in self._environ


class FileProvider:
    """`${secret:file:PATH}`: a file under the secrets directory; one trailing newline stripped."""

    def __init__(self, root: Path | None) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        if self._root is None:
            raise SecretError(
                f'no secrets directory for ${{secret:file:{key}}}',
                hint='pass --secrets-dir DIR or set JOBSYNC_SECRETS_DIR',
            )
        rel = PurePosixPath(key)
        if rel.is_absolute() or '..' in rel.parts:
            raise SecretError(f'secret file path {key!r} must be relative to the secrets directory, without ".."')
        return self._root / rel

    def resolve(self, key: str) -> str:
        path = self._path(key)
        try:
            text = path.read_text(encoding='utf-8')
        except OSError as err:
            raise SecretError(f'cannot read secret file {key} in the secrets directory ({err.strerror})') from None
        except UnicodeDecodeError:
            raise SecretError(f'secret file {key} in the secrets directory is not UTF-8 text',
                              hint='save the value as UTF-8 (base64-encode a binary secret)') from None
        return text[:-1] if text.endswith('\n') else text

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


# Credentials jobsync may hold (the dataarts backend's, workspace/dataarts_http.py, and the plan
# key): scrubbed from output like resolved secrets, whether or not a command used them.
CREDENTIAL_ENV = ('HUAWEICLOUD_SDK_AK', 'HUAWEICLOUD_SDK_SK', 'HUAWEICLOUD_SDK_SECURITY_TOKEN',
                  'JOBSYNC_DATAARTS_TOKEN', 'JOBSYNC_PLAN_KEY')


def encoded_forms(value: str) -> set[str]:
    """Every form in which `value` may come back inside a service's answer or an error.

    Raw; JSON-escaped (a value with `"`, `\\`, a newline; non-ASCII with and without
    ensure_ascii; escaped twice, as JSON inside a JSON string); URL-encoded (quote, with and
    without `/` safe, quote_plus; `Redactor` matches `%2f` as `%2F`); base64 (standard and URL-safe, padded or not,
    and at byte offsets 1 and 2 inside a longer payload, where only the middle of the encoding is
    the secret's own).
    """
    forms = {value}
    for ascii_only in (True, False):
        once = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        forms.update({once, json.dumps(once, ensure_ascii=ascii_only)[1:-1]})
    forms.update({urllib.parse.quote(value, safe=''), urllib.parse.quote(value), urllib.parse.quote_plus(value),
                  urllib.parse.quote_plus(value, safe='/')})  # scrub() matches their %XX in either case
    raw = value.encode('utf-8')
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            text = encode(b'\0' * offset + raw).decode('ascii')
            whole = (offset + len(raw)) // 3 * 4  # characters of complete groups: the rest depends on what follows
            core = text[(0, 2, 3)[offset]:whole]
            if len(core) >= 6:  # shorter cores would mask innocent base64 text
                forms.add(core)
            if offset == 0:
                forms.update({text, text.rstrip('=')})
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


class Redactor:
    """Scrubs every resolved secret value and every credential from text before it leaves jobsync,
    in each of its `encoded_forms`."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._forms: list[str] = []
        self._escaped: re.Pattern[str] | None = None  # URL-encoded forms, their hex digits in any case

    @classmethod
    def for_credentials(cls, env: Mapping[str, str]) -> Redactor:
        """A redactor that already knows the credentials in `env` (CREDENTIAL_ENV)."""
        redactor = cls()
        for name in CREDENTIAL_ENV:
            value = env.get(name, '')
            if len(value) >= MIN_SECRET_LENGTH:
                redactor.learn(value)
        return redactor

    def learn(self, value: str) -> None:
        if value in self._values or not value:
            return
        self._values.add(value)
        # Longest first, so a form containing another is scrubbed whole.
        self._forms = sorted(set(self._forms) | encoded_forms(value), key=len, reverse=True)
        escaped = [_any_case_hex(f) for f in self._forms if _PERCENT.search(f)]
        self._escaped = re.compile('|'.join(escaped)) if escaped else None

    def scrub(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        if self._escaped is not None and '%' in text:
            text = self._escaped.sub(MASK, text)
        return text


_PERCENT = re.compile('%[0-9A-F]{2}')


def _any_case_hex(form: str) -> str:
    """A pattern for a URL-encoded form whose `%XX` escapes may come back in lower case."""
    out, pos = [], 0
    for match in _PERCENT.finditer(form):
        out.append(re.escape(form[pos:match.start()]))
        out.append('%' + ''.join(f'[{c}{c.lower()}]' if c.isalpha() else c for c in match.group()[1:]))
        pos = match.end()
    out.append(re.escape(form[pos:]))
    return ''.join(out)


class SecretResolver:
    """Resolves references through named providers, teaching the redactor every value."""

    def __init__(self, providers: Mapping[str, SecretProvider], redactor: Redactor) -> None:
        self._providers = dict(providers)
        self.redactor = redactor

    def _provider(self, ref: SecretRef) -> SecretProvider:
        try:
            return self._providers[ref.provider]
        except KeyError:
            known = ', '.join(sorted(self._providers))
            raise SecretError(f'unknown secret provider in {ref}', hint=f'use one of: {known}') from None

    def resolve(self, ref: SecretRef) -> str:
        try:
            value = self._provider(ref).resolve(ref.key)
        except SecretError as err:
            raise SecretError(f'cannot resolve {ref}: {err.message}', hint=err.hint) from None
        if len(value) < MIN_SECRET_LENGTH:
            raise SecretError(
                f'the value of {ref} is shorter than {MIN_SECRET_LENGTH} characters',
                hint='jobsync refuses very short secrets: they cannot be scrubbed from output safely',
            )
        self.redactor.learn(value)
        return value

    def check(self, refs: set[SecretRef]) -> list[tuple[SecretRef, str]]:
        """Resolve each reference once to prove it works; return (ref, why) for those that fail.

        Values are taught to the redactor and dropped at once; only references and reasons return.
        """
        problems = []
        for ref in sorted(refs, key=str):
            try:
                self.resolve(ref)
            except SecretError as err:
                problems.append((ref, err.message))
        return problems

    def missing(self, refs: set[SecretRef]) -> list[SecretRef]:
        """References that cannot be resolved now, without reading or keeping any value."""
        out = []
        for ref in sorted(refs, key=str):
            try:
                if not self._provider(ref).exists(ref.key):
                    out.append(ref)
            except SecretError:
                out.append(ref)
        return out


def default_resolver(
    redactor: Redactor, environ: Mapping[str, str], secrets_dir: Path | None = None,
) -> SecretResolver:
    """The built-in providers: `env` over `environ`, `file` under `secrets_dir`."""
    return SecretResolver({'env': EnvProvider(environ), 'file': FileProvider(secrets_dir)}, redactor)


def refs_in(value: Any) -> set[SecretRef]:
    """Every reference inside a value."""
    return {ref for _, text in iter_secrets(value) for ref in text.refs}


def fill_secrets(value: Any, resolver: SecretResolver) -> Any:
    """A copy of `value` with every reference replaced by its value. Keep the result short-lived."""
    if isinstance(value, SecretText):
        return ''.join(resolver.resolve(p) if isinstance(p, SecretRef) else p for p in value.parts)
    if isinstance(value, dict):
        return {k: fill_secrets(v, resolver) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_secrets(v, resolver) for v in value]
    return value


# --- where references may stand (issue 12 item 7) ---------------------------------------------

Report = Callable[[Literal['error', 'warning'], str, str, str], Diagnostic]


def misplaced_references(
    kind: Kind, data: Any, extra: Sequence[str] = (), path: tuple[str, ...] = (), pointer: str = '',
) -> Iterator[tuple[str, tuple[str, ...], str]]:
    """(pointer, repo-form path, reference text) of every reference outside a write-only field.

    `data` is a document as written in git (repo form, or API form in `.job`/`.json` files). A
    `{name, value}` pair counts as the field it names, in place of its list index, so that
    `/nodes/*/properties/token` addresses it in either form; `pointer` is where it is written.
    Write-only is what the registry says (kinds.is_secret_field) plus `extra`, the kind's
    jobsync.yaml `secret_fields`.
    """
    if isinstance(data, dict):
        for k, v in data.items():
            yield from misplaced_references(kind, v, extra, (*path, str(k)), f'{pointer}/{escape_pointer(str(k))}')
    elif isinstance(data, list):
        for i, v in enumerate(data):
            if isinstance(v, dict) and isinstance(v.get('name'), str) and 'value' in v:
                yield from misplaced_references(kind, v['value'], extra, (*path, v['name']), f'{pointer}/{i}/value')
            else:
                yield from misplaced_references(kind, v, extra, (*path, str(i)), f'{pointer}/{i}')
    elif isinstance(data, (str, SecretText)) and not is_secret_field(kind, path, extra):
        match = REF_PATTERN.search(str(data))
        if match:
            yield pointer, path, match.group(0)


def reference_problems(
    report: Report, kind: Kind, data: Any, content: str | None, extra: Sequence[str] = (),
) -> list[Diagnostic]:
    """An error for every secret reference standing where the service keeps the value in clear.

    The service would store the resolved value as it is: readable by anyone with console access,
    and, since a field holding a reference is never compared, a change there would go unseen.
    `content` is a script's content read from its sidecar file (reported as `/content`).
    """
    found = list(misplaced_references(kind, data, extra))
    if content is not None and (match := REF_PATTERN.search(content)) and not is_secret_field(
            kind, ('content',), extra):
        found.append(('/content', ('content',), match.group(0)))
    return [report(
        'error', f'secret reference {ref} in {path[-1] if path else kind}, a field the service keeps in clear',
        pointer,
        'the service would store the secret in clear there, readable by anyone with console access, and '
        'jobsync cannot compare a field holding a reference, so a change to it would go unseen; put the '
        'secret in a write-only field (a connection\'s password, a CDM link\'s linkConfig.password), or, '
        f'if the service really keeps this field write-only, add it to jobsync.yaml: '
        f'secret_fields: {{{kind}: [{_pointer(path)}]}}') for pointer, path, ref in found]


def _pointer(path: Sequence[str]) -> str:
    return ''.join(f'/{escape_pointer(p)}' for p in path)


def literal_secret_problems(report: Report, name: str, kind: Kind, data: Any, extra: Sequence[str] = (),
                            ) -> list[Diagnostic]:
    """Secret fields of a repo document holding a literal value (a password committed to git, or
    CDM's export placeholder). A kind without write-only fields (a job, a script) is not walked."""
    return _literal_secrets(report, name, kind, data, extra) if has_secret_fields(kind, extra) else []


def suggested_secret_name(key_name: str, field: str) -> str:
    """An environment variable name for a secret field: `mysql_src` + `linkConfig.password`."""
    raw = f'{key_name}_{field.rsplit(".", 1)[-1]}'
    return ''.join(c if c.isalnum() else '_' for c in raw).upper()


def _literal_secrets(
    report: Report, name: str, kind: Kind, data: Any, extra: Sequence[str], path: tuple[str, ...] = (),
) -> list[Diagnostic]:
    """Secret fields holding a literal value (a password committed to git, or CDM's placeholder)."""
    if isinstance(data, dict) and isinstance(data.get('name'), str) and 'value' in data:
        # An API-form pair (`{name: linkConfig.password, value: ...}`) counts as the field it names.
        return _literal_secrets(report, name, kind, data['value'], extra, (*path, data['name']))
    if isinstance(data, (dict, list)):
        items = data.items() if isinstance(data, dict) else enumerate(data)
        out: list[Diagnostic] = []
        for k, v in items:
            out.extend(_literal_secrets(report, name, kind, v, extra, (*path, str(k))))
        return out
    if not (isinstance(data, str) and data and is_secret_field(kind, path, extra)):
        return []
    if REF_PATTERN.search(data):
        return []
    pointer = ''.join(f'/{escape_pointer(p)}' for p in path)
    ref = f'${{secret:env:{suggested_secret_name(name, path[-1])}}}'
    if data in PLACEHOLDERS:
        return [report('error', f'{path[-1]} holds the export placeholder {data!r}, not a secret reference',
                       pointer, f'write a reference instead, e.g. {path[-1]}: {ref!r}')]
    return [report('error', f'{path[-1]} holds a literal secret; passwords must not be committed to git',
                   pointer, f'replace it with a reference such as {ref!r}, set the value in CI, and rotate '
                   'the password: it is in the git history now')]
