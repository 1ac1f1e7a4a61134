"""Repo files -> desired definitions, collecting every problem before stopping.

The folder gives the kind and the file stem gives the name (design.md §3):

    connections/<name>.yaml            resources/<name>.yaml
    scripts/<name>.yaml + <name>.sql   jobs/<name>.yaml  (or a console-exported <name>.job)
    cdm/<cluster>/links/<name>.yaml    cdm/<cluster>/jobs/<name>.yaml

Sub-folders inside a kind's folder are allowed for organisation; names stay unique per kind.
A file `<stem>.template.yaml` in a kind's folder is a template generating several definitions
(templates.py).

Loading is for one target (jobsync.yaml): per document, the target's `${var:...}` are filled
in, then the schema is checked, script content read, the API form built, the target's time
zone set, its remapping applied (the key may change: `connection/doctest` -> `connection/dws_prod`)
and secret references parsed. Then references are checked across the whole repo. Diagnostics
point at the source file (and for a template at the parameter set), never at generated text.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

from jobsync import codec, cron, defcache, kinds, schema, secrets, subst, templates, timezones, yamlio
from jobsync.config import CONFIG_FILES, RepoConfig, Target, default_config, parse_config
from jobsync.errors import ConfigError, Diagnostic
from jobsync.gitrepo import Snapshot
from jobsync.model import Definition, Kind, ObjectKey, SourceRef, Spec
from jobsync.refs import references
from jobsync.remap import Remapped, Renamed, apply_remap, remap_key
from jobsync.scope import directory_of, in_scope, may_be_in_scope, why_outside

DEFINITION_SUFFIXES = ('.yaml', '.yml', '.json')
EXPORT_SUFFIXES: dict[Kind, str] = {'job': '.job', 'script': '.script'}  # console exports, read as is
SIDECAR_SUFFIXES = ('.sql', '.sh', '.py')
_FOLDERS: dict[str, Kind] = {'connections': 'connection', 'resources': 'resource', 'scripts': 'script', 'jobs': 'job'}
_CDM_FOLDERS: dict[str, Kind] = {'links': 'cdm-link', 'jobs': 'cdm-job'}


@dataclass(frozen=True)
class Located:
    """A file's place in the layout: kind, cluster (CDM only), stem and suffix."""

    kind: Kind
    cluster: str
    stem: str
    suffix: str
    folder: str  # directory of the file, for finding a script's sidecar


Severity = Literal['error', 'warning']
Report = Callable[[Severity, str, str, str], Diagnostic]
"""Makes a diagnostic about one definition: (severity, summary, repo-form pointer, hint).

It knows where the definition came from: a file and its lines, or a template's parameter set."""


@dataclass(frozen=True)
class LoadResult:
    config: RepoConfig
    desired: dict[ObjectKey, Definition]
    warnings: tuple[Diagnostic, ...]
    target: Target


def locate(rel: str) -> Located | None:
    """Where `rel` sits in the layout, or None for a file outside the kinds' folders."""
    parts = rel.split('/')  # str methods, not PurePosixPath: called for every file of the repo
    if '' in parts or '.' in parts:
        parts = list(PurePosixPath(rel).parts)  # not a path as git lists them: PurePosixPath's reading
    name = parts[-1]
    dot = name.rfind('.')
    stem, suffix = (name[:dot], name[dot:]) if 0 < dot < len(name) - 1 else (name, '')  # PurePosixPath's rule
    folder = '/'.join(parts[:-1])
    if len(parts) >= 2 and parts[0] in _FOLDERS:
        return Located(_FOLDERS[parts[0]], '', stem, suffix, folder)
    if len(parts) >= 4 and parts[0] == 'cdm' and parts[2] in _CDM_FOLDERS:
        return Located(_CDM_FOLDERS[parts[2]], parts[1], stem, suffix, folder)
    return None


@dataclass
class _Context:
    """What loading one repo for one target shares across files."""

    target: Target
    files: Mapping[str, bytes]
    problems: list[Diagnostic]
    renamed: set[tuple[str, str]] = field(default_factory=set)  # (remap section, name) entries that matched
    # Keys of definitions whose files have problems: references to them are not reported too.
    broken: set[ObjectKey] = field(default_factory=set)
    secret_fields: Mapping[Kind, tuple[str, ...]] = field(default_factory=dict)  # jobsync.yaml `secret_fields`
    partial: list[_Partial] = field(default_factory=list)  # definitions with problems, read as far as they go


@dataclass(frozen=True)
class _Partial:
    """A definition whose file has problems, read as far as it could be: its references are checked all
    the same, so that `validate` says every problem at once (issue 16 item 6)."""

    spec: Spec  # repo form, variables filled where they could be, remapped
    report: Report
    remapped: Remapped
    reported: frozenset[str]  # pointers whose values are already reported (schema, variables)


@dataclass(frozen=True)
class _Built:
    definition: Definition
    report: Report
    remapped: Remapped
    refs: bool = True  # False: the loader knows its spec holds no `${secret:...}` reference


def load_config(snapshot: Snapshot) -> RepoConfig:
    """Read jobsync.yaml alone (the defaults when there is none); raise ConfigError if it is invalid."""
    problems: list[Diagnostic] = []
    config, _ = _load_config(snapshot.files, problems)
    if any(p.severity == 'error' for p in problems):
        raise ConfigError(problems)
    return config


def load_repo(
    snapshot: Snapshot, target: str | None = None, *, present: Collection[ObjectKey] | None = None,
) -> LoadResult:
    """Read jobsync.yaml, then every definition as it applies to `target`; raise ConfigError listing every problem.

    `target` names a target of jobsync.yaml (None: its default_target; UsageError if unknown).
    Its variables are filled in, its time zone set, its remapping applied, and definitions are
    checked to be inside its scope. A problem in jobsync.yaml stops before any definition is read.
    References must point at definitions of the repo, or, when `present` is given (the keys a
    workspace listing returned: validate --online, plan, apply), at objects in `present`.
    """
    problems: list[Diagnostic] = []
    config, config_doc = _load_config(snapshot.files, problems)
    if any(p.severity == 'error' for p in problems):
        raise ConfigError(problems)
    ctx = _Context(config.target(target), snapshot.files, problems, secret_fields=config.secret_fields)
    zone = ctx.target.expression_time_zone
    zone_problem = cron.time_zone_problem(zone) if zone else None
    if zone_problem is not None:
        where = config_doc.where(f'/targets/{ctx.target.name}/expressionTimeZone') if config_doc else 'jobsync.yaml'
        raise ConfigError([*problems, Diagnostic('error', zone_problem[0], where, zone_problem[1])])
    built: dict[ObjectKey, _Built] = {}
    config_bytes = b''.join(n.encode() + b'\0' + snapshot.files.get(n, b'') + b'\0' for n in CONFIG_FILES)
    cache = defcache.DefinitionCache(snapshot.root, config_bytes, ctx.target.name)
    for rel, raw in snapshot.files.items():
        loc = locate(rel)
        if loc is None:
            continue
        if loc.suffix in SIDECAR_SUFFIXES and loc.kind == 'script':
            if not any(f'{loc.folder}/{loc.stem}{s}' in snapshot.files for s in DEFINITION_SUFFIXES):
                problems.append(Diagnostic('error', f'script content without a definition: no {loc.stem}.yaml next '
                                           'to it', rel, f'add {loc.folder}/{loc.stem}.yaml with the script type'))
            continue
        if loc.suffix not in DEFINITION_SUFFIXES and loc.suffix != EXPORT_SUFFIXES.get(loc.kind):
            problems.append(Diagnostic('warning', f'ignored: {loc.suffix or "no suffix"} is not a definition file',
                                       rel, 'definitions are .yaml, .yml or .json'))
            continue
        if templates.is_template(loc.stem) and loc.suffix in DEFINITION_SUFFIXES:
            loaded = _load_template(ctx, rel, raw, loc)
        else:
            one = _load_cached(ctx, cache, rel, raw, loc)
            loaded = [one] if one is not None else []
        for item in loaded:
            key = item.definition.key
            if key in built:
                problems.append(item.report(
                    'error', f'{key} is defined twice', '',
                    f'also defined in {built[key].definition.source.label}; keep one'
                    + (' (remapping can make two names one)' if item.remapped.renamed_at('') else '')))
                continue
            built[key] = item
    desired = {key: item.definition for key, item in built.items()}
    problems.extend(_check_references(ctx.target, built, ctx.partial, present, ctx.broken))
    problems.extend(_unused_remaps(ctx, config_doc))
    cache.save()
    errors = [p for p in problems if p.severity == 'error']
    if errors:
        raise ConfigError(problems)
    return LoadResult(config, dict(sorted(desired.items())), tuple(problems), ctx.target)


def _load_config(files: Mapping[str, bytes], problems: list[Diagnostic]) -> tuple[RepoConfig, yamlio.Document | None]:
    for name in CONFIG_FILES:
        if name not in files:
            continue
        doc, found = yamlio.parse(name, files[name])
        problems.extend(found)
        if doc is None:
            return default_config(), None
        data = doc.data if doc.data is not None else {}
        schema_problems = _schema_problems(_doc_report(doc), 'config', data)
        problems.extend(schema_problems)
        if schema_problems:
            return default_config(), doc
        return parse_config(data, name), doc
    return default_config(), None


def _schema_problems(report: Report, name: Kind | Literal['config', 'template'], data: Any) -> list[Diagnostic]:
    return [report('error', p.message, p.pointer, p.hint) for p in schema.validate(name, data)]


def _reparsing_report(rel: str, raw: bytes) -> Report:
    """A Report that parses `raw` again, with lines, the first time it has something to say.

    Files are parsed without lines, and no parsed document is kept for the checks after loading
    (references, duplicates): spelling every pointer costs a third of the parse, and keeping the
    documents the memory of a second copy of the repo; nearly every file has nothing to say."""
    parsed: list[yamlio.Document | None] = []

    def report(severity: Severity, summary: str, pointer: str, hint: str) -> Diagnostic:
        if not parsed:
            parsed.append(yamlio.parse(rel, raw)[0])
        doc = parsed[0]
        return Diagnostic(severity, summary, doc.where(pointer) if doc is not None else rel, hint)

    return report


def _doc_report(doc: yamlio.Document) -> Report:
    def report(severity: Severity, summary: str, pointer: str, hint: str) -> Diagnostic:
        return Diagnostic(severity, summary, doc.where(pointer), hint)

    return report


def _parse_mapping(ctx: _Context, rel: str, raw: bytes, what: str, *, lines: bool = True) -> yamlio.Document | None:
    doc, found = yamlio.parse(rel, raw, lines=lines)
    ctx.problems.extend(found)
    if doc is None:
        return None
    if not isinstance(doc.data, dict):
        ctx.problems.append(Diagnostic('error', 'a definition must be a mapping of fields', rel, f'see {what}'))
        return None
    return doc


def _fill_variables(ctx: _Context, value: Any, report: Report) -> tuple[Any, set[str]]:
    """`value` with the target's `${var:...}` filled in, and the pointers where that failed."""
    filled = subst.substitute(value, 'var', ctx.target.variables)
    for problem in filled.problems:
        ctx.problems.append(report('error', *_variable_problem(ctx.target, problem)))
    return filled.value, {p.pointer for p in filled.problems}


def _schema_problems_but(report: Report, name: Kind | Literal['template'], data: Any, failed: set[str],
                         ) -> list[Diagnostic]:
    """Schema problems, except at values whose variables could not be filled (already reported)."""
    return [report('error', p.message, p.pointer, p.hint) for p in schema.validate(name, data)
            if p.pointer not in failed]


def _variable_problem(target: Target, problem: subst.Problem) -> tuple[str, str, str]:
    """(summary, pointer, hint) for a variable that cannot be filled in."""
    if problem.reason == 'malformed':
        return (f'${{var:{problem.name}}} is not a valid variable reference', problem.pointer,
                'variable names start with a letter or _ and hold letters, digits and _')
    if problem.reason == 'not-text':
        return (f'variable {problem.name!r} of target {target.name!r} is a list or mapping and cannot go inside '
                'text', problem.pointer, f'write the value as exactly ${{var:{problem.name}}}, or make it a string')
    known = sorted(target.variables)
    close = difflib.get_close_matches(problem.name, known, n=1)
    hint = (f'did you mean {close[0]!r}? ' if close else '') + (
        f'define it under targets.{target.name}.variables (or the top-level variables) in jobsync.yaml; '
        f'target {target.name!r} defines: {", ".join(known) or "no variables"}')
    return f'variable {problem.name!r} is not defined for target {target.name!r}', problem.pointer, hint


def _load_cached(ctx: _Context, cache: defcache.DefinitionCache, rel: str, raw: bytes, loc: Located) -> _Built | None:
    """`_load_definition`, answered from the cache when these bytes loaded cleanly before (defcache.py)."""
    if not cache.enabled:
        return _load_definition(ctx, rel, raw, loc)
    content = [(p, ctx.files[p]) for s in SIDECAR_SUFFIXES if (p := f'{loc.folder}/{loc.stem}{s}') in ctx.files] \
        if loc.kind == 'script' else []
    ident = cache.ident(rel, raw, content)
    hit = cache.get(ident)
    if hit is not None:
        key, spec, renamed, refs = hit
        ctx.renamed.update((r.section, r.old) for r in renamed)

        # The cache's own dict, not a copy, when it holds no reference: nothing changes a definition.
        return _Built(Definition(key, secrets.parse_placeholders(spec) if refs else spec, SourceRef(rel)),
                      _reparsing_report(rel, raw), Remapped(key, spec, renamed))
    before = len(ctx.problems)
    built = _load_definition(ctx, rel, raw, loc)
    if built is not None and len(ctx.problems) == before:
        cache.put(ident, built.remapped.key, built.remapped.spec, built.remapped.renamed, refs=built.refs)
    return built


def _load_definition(ctx: _Context, rel: str, raw: bytes, loc: Located) -> _Built | None:
    built = _load_one(ctx, rel, raw, loc)
    if built is None:
        ctx.broken.add(remap_key(ObjectKey(loc.kind, loc.stem, loc.cluster), ctx.target.remap))
    return built


def _load_one(ctx: _Context, rel: str, raw: bytes, loc: Located) -> _Built | None:
    # Parsed without lines: nearly every file has nothing to say; one that has is parsed again for them.
    doc = _parse_mapping(ctx, rel, raw, f'schemas/{loc.kind}.schema.json for the fields of a {loc.kind}',
                         lines=False)
    if doc is None:
        return None
    report = _reparsing_report(rel, raw)
    placeholders = subst.may_hold_placeholders(raw)
    data, failed = _fill_variables(ctx, doc.data, report) if placeholders else (doc.data, set())
    found = [p for p in schema.validate(loc.kind, data) if p.pointer not in failed]
    ctx.problems.extend(report('error', p.message, p.pointer, p.hint) for p in found)
    name_field = codec.NAME_FIELD[loc.kind]
    name = data.get(name_field, loc.stem)
    if name != loc.stem:
        ctx.problems.append(report('error', f'{name_field} {name!r} does not match the file name {loc.stem!r}',
                                   f'/{name_field}',
                                   f'rename the file to {name}{loc.suffix} or set {name_field}: {loc.stem}'))
    stem_problem = kinds.name_problem(loc.kind, loc.stem)  # the service's name rules (issue 12)
    if stem_problem is not None:
        ctx.problems.append(report('error', f'the file name {loc.stem!r} cannot be a {loc.kind} name: {stem_problem}',
                                   f'/{name_field}', 'rename the file to a name the service accepts'))
    if name != loc.stem or found or failed or stem_problem is not None:
        key = ObjectKey(loc.kind, loc.stem, loc.cluster)
        remapped = apply_remap(key, data, ctx.target.remap)
        ctx.renamed.update((r.section, r.old) for r in remapped.renamed)
        ctx.partial.append(_Partial(remapped.spec, report, remapped, frozenset({p.pointer for p in found} | failed)))
        return None
    content = _script_content(ctx, rel, loc, data) if loc.kind == 'script' else None
    return _build(ctx, loc, loc.stem, data, content, report, SourceRef(rel), placeholders=placeholders, owned=True)


def _build(
    ctx: _Context, loc: Located, name: str, data: dict[str, Any], content: str | None, report: Report,
    source: SourceRef, *, placeholders: bool = True, owned: bool = False,
) -> _Built | None:
    """A schema-valid repo document (variables filled) -> the target's definition.

    `placeholders` False: no value of `data` holds `${` (`subst.may_hold_placeholders`), so there is no
    reference to look for outside the sidecar `content`. `owned`: nothing else holds `data`'s values
    (a file's own parse, not a template's shared body), so they become the definition uncopied."""
    name_field = codec.NAME_FIELD[loc.kind]
    data = {name_field: name, **{k: v for k, v in data.items() if k != name_field}}
    extra = ctx.secret_fields.get(loc.kind, ())
    ctx.problems.extend(secrets.literal_secret_problems(report, name, loc.kind, data, extra))
    ctx.problems.extend(secrets.reference_problems(  # issue 12: references only in write-only fields
        report, loc.kind, data if placeholders else {}, content, ctx.secret_fields.get(loc.kind, ())))
    spec = codec.from_repo(loc.kind, data, content, copy=not owned)
    if loc.kind == 'job':
        ctx.problems.extend(report('error', problem, pointer, hint)
                            for pointer, problem, hint in cron.schedule_problems(data))
        spec = timezones.default_time_zone(spec, ctx.target.expression_time_zone)
    remapped = apply_remap(ObjectKey(loc.kind, name, loc.cluster), spec, ctx.target.remap)
    ctx.renamed.update((r.section, r.old) for r in remapped.renamed)
    key = remapped.key
    scope = ctx.target.scope
    if not in_scope(key, remapped.spec, scope):
        ctx.problems.append(report(
            'error', f'{key} is outside the scope of target {ctx.target.name!r}: '
                     f'{why_outside(key, remapped.spec, scope)}',
            '/directory' if directory_of(key, remapped.spec) is not None and may_be_in_scope(key, scope) else '',
            f'targets.{ctx.target.name}.scope owns {scope.describe()}: move the object inside it, '
            'or apply it with a target whose scope holds it'))
        return None
    has_refs = placeholders or (content is not None and '${' in content)
    definition = Definition(key, secrets.parse_placeholders(remapped.spec) if has_refs else remapped.spec, source)
    return _Built(definition, report, remapped, has_refs)


def _script_content(ctx: _Context, rel: str, loc: Located, data: dict[str, Any]) -> str | None:
    """The sidecar's content with the target's variables filled in; None when inline or on problems."""
    files, problems = ctx.files, ctx.problems
    sidecars = [f'{loc.folder}/{loc.stem}{s}' for s in SIDECAR_SUFFIXES if f'{loc.folder}/{loc.stem}{s}' in files]
    if len(sidecars) > 1:
        problems.append(Diagnostic('error', f'several content files for one script: {", ".join(sidecars)}', rel,
                                   'keep exactly one content file per script'))
        return None
    if sidecars and 'content' in data:
        problems.append(Diagnostic('error', f'content is both inline and in {sidecars[0]}', f'{rel}#/content',
                                   'keep the content in the sidecar file and remove the inline field'))
        return None
    if not sidecars:
        if 'content' not in data:
            suffix = codec.sidecar_suffix(str(data.get('type', '')))
            problems.append(Diagnostic('error', 'script has no content', rel,
                                       f'put the script in {loc.folder}/{loc.stem}{suffix}'))
        return None
    try:
        text = files[sidecars[0]].decode('utf-8')
    except UnicodeDecodeError:
        problems.append(Diagnostic('error', 'script content is not UTF-8 text', sidecars[0], 'save it as UTF-8'))
        return None
    filled = subst.substitute_text(text, 'var', ctx.target.variables)
    for problem in filled.problems:
        summary, _, hint = _variable_problem(ctx.target, problem)
        problems.append(Diagnostic('error', summary, f'{sidecars[0]}:{_line_at(text, problem.offset)}', hint))
    return None if filled.problems else str(filled.value)


def _line_at(text: str, offset: int) -> int:
    return text.count('\n', 0, offset) + 1


# --- templates ------------------------------------------------------------------------------------


def _load_template(ctx: _Context, rel: str, raw: bytes, loc: Located) -> list[_Built]:
    """Every definition a template file generates (see templates.py), each reported against its parameter set."""
    doc = _parse_mapping(ctx, rel, raw, 'schemas/template.schema.json for the fields of a template')
    if doc is None:
        return []
    report = _doc_report(doc)
    data, failed = _fill_variables(ctx, doc.data, report)
    schema_problems = _schema_problems_but(report, 'template', data, failed)
    ctx.problems.extend(schema_problems)
    if schema_problems or failed:
        return []
    name_field = codec.NAME_FIELD[loc.kind]
    if name_field in data['template']:
        ctx.problems.append(report('error', f'a template body must not set {name_field}', f'/template/{name_field}',
                                   'the generated name comes from the template\'s `name` field'))
        return []
    instances, found = templates.expand(data)
    ctx.problems.extend(report('error', p.summary, p.pointer, p.hint) for p in found)
    content = _script_content(ctx, rel, loc, data['template']) if loc.kind == 'script' else None
    sidecar = next((f'{loc.folder}/{loc.stem}{s}' for s in SIDECAR_SUFFIXES
                    if f'{loc.folder}/{loc.stem}{s}' in ctx.files), '')
    collected: list[tuple[_Built | None, list[Diagnostic], list[_Noted]]] = []
    for instance in instances:
        own: list[Diagnostic] = []
        notes: list[_Noted] = []
        sub = _Context(ctx.target, ctx.files, own, ctx.renamed, ctx.broken, ctx.secret_fields)
        key_text = str(ObjectKey(loc.kind, str(instance.name), loc.cluster))
        inst_report = _instance_report(doc, instance, key_text, name_field, notes)
        body = {name_field: instance.name, **instance.data}  # so that the schema checks the generated name
        inst_content = content
        if content is not None:
            filled = subst.substitute_text(content, 'param', instance.params)
            for problem in filled.problems:
                own.append(Diagnostic(
                    'error', f'parameter set {instance.index} has no parameter {problem.name!r} '
                             f'(used in {sidecar}:{_line_at(content, problem.offset)})',
                    doc.where(f'/params/{instance.index}'), 'add it to this parameter set'))
            inst_content = str(filled.value)
        schema_problems = _schema_problems(inst_report, loc.kind, body)
        own.extend(schema_problems)
        built = None if schema_problems else _build(
            sub, loc, str(instance.name), body, inst_content, inst_report,
            SourceRef(rel, doc.line_of(f'/params/{instance.index}'), f'/params/{instance.index}'))
        if built is None:
            ctx.broken.add(remap_key(ObjectKey(loc.kind, str(instance.name), loc.cluster), ctx.target.remap))
        collected.append((built, own, notes))
    ctx.problems.extend(_merge_repeated(doc, [(own, notes) for _, own, notes in collected]))
    return [b for b, _, _ in collected if b is not None]


@dataclass(frozen=True)
class _Noted:
    """A diagnostic about a generated definition, with what is needed to tell repeats apart."""

    diagnostic: Diagnostic
    template_pointer: str
    summary: str
    hint: str
    traced: bool  # attributed to one parameter's value


def _instance_report(doc: yamlio.Document, instance: templates.Instance, key_text: str, name_field: str,
                     notes: list[_Noted]) -> Report:
    """Reports a generated definition's problems against the template file and its parameter set.

    A value filled from one parameter is reported at that parameter (`#/params/3/table`); any
    other at the parameter set (`#/params/3`), naming the template field.
    """
    def report(severity: Severity, summary: str, pointer: str, hint: str) -> Diagnostic:
        name_pointer = f'/{secrets.escape_pointer(name_field)}'
        template_pointer = '/name' if pointer == name_pointer else f'/template{pointer}'
        params = instance.used.get(template_pointer, ())
        base = f'/params/{instance.index}'
        if params:
            where = doc.where(f'{base}/{secrets.escape_pointer(params[0])}')
            note = f'{key_text} from parameter set {instance.index}, template field {template_pointer}'
        else:
            where = doc.where(base)
            line = doc.line_of(template_pointer)
            note = f'{key_text} from parameter set {instance.index}, template field {template_pointer}' + (
                f' at line {line}' if line else '')
        diagnostic = Diagnostic(severity, f'{summary} ({note})', where, hint)
        notes.append(_Noted(diagnostic, template_pointer, summary, hint, bool(params)))
        return diagnostic

    return report


def _merge_repeated(doc: yamlio.Document, per_set: list[tuple[list[Diagnostic], list[_Noted]]]) -> list[Diagnostic]:
    """Every generated definition's diagnostics; one that every parameter set shares is said once.

    A problem of the template body itself (an unknown field, say) would otherwise be repeated
    for every parameter set; it is reported once at the template field instead.
    """
    def ident(note: _Noted) -> tuple[str, str, str, str]:
        return note.diagnostic.severity, note.template_pointer, note.summary, note.hint

    counts = Counter(ident(n) for _, notes in per_set for n in {ident(n): n for n in notes if not n.traced}.values())
    shared = {i for i, count in counts.items() if count == len(per_set) > 1}
    out: list[Diagnostic] = []
    said: set[tuple[str, str, str, str]] = set()
    for own, notes in per_set:
        noted = {id(n.diagnostic): n for n in notes}
        for diagnostic in own:
            note = noted.get(id(diagnostic))
            if note is None or note.traced or ident(note) not in shared:
                out.append(diagnostic)
            elif ident(note) not in said:
                said.add(ident(note))
                out.append(Diagnostic(diagnostic.severity, f'{note.summary} (template field {note.template_pointer}, '
                                      'every parameter set)', doc.where(note.template_pointer), note.hint))
    return out


# --- references and remapping ---------------------------------------------------------------------


def _check_references(
    target: Target, built: Mapping[ObjectKey, _Built], partial: list[_Partial],
    present: Collection[ObjectKey] | None, broken: Collection[ObjectKey],
) -> list[Diagnostic]:
    """References that point nowhere: not in the repo, nor (when given) in the workspace listing.

    Definitions with problems of their own (`partial`) are checked too, except at values already
    reported. A reference to a definition whose own file has problems (`broken`) is not reported.
    """
    checked = [(item.definition.spec, item.report, item.remapped, frozenset[str]()) for item in built.values()]
    checked.extend((p.spec, p.report, p.remapped, p.reported) for p in partial)
    problems = []
    for spec, report, remapped, reported in checked:
        for ref in references(remapped.key, spec):
            if ref.target in built or ref.target in broken or (present is not None and ref.target in present):
                continue
            if ref.pointer in reported:
                continue
            where = 'the repo' if present is None else 'the repo nor in the workspace'
            problems.append(report(
                'error', f'{ref.what} {ref.target.name!r} is not defined in {where} ({ref.target})', ref.pointer,
                _reference_hint(target, ref.target, remapped.renamed_at(ref.pointer), online=present is not None),
            ))
    return problems


def _reference_hint(target: Target, missing: ObjectKey, renamed: Renamed | None, *, online: bool) -> str:
    folder = _folder_of(missing)
    check = '' if online else '; if it exists in the workspace, `validate --online` accepts it'
    if renamed is not None:
        return (f'{renamed.old!r} is remapped to {renamed.new!r} by targets.{target.name}.remap.{renamed.section} in '
                f'jobsync.yaml: define {renamed.new} under {folder}, or fix the mapping{check}')
    section = {'connection': 'connections', 'cdm-job': 'cdm_clusters', 'cdm-link': 'cdm_clusters'}.get(missing.kind)
    if section == 'connections':
        return (f'define it under {folder}, or map it to a connection of target {target.name!r}: '
                f'targets.{target.name}.remap.connections: {{{missing.name}: NAME}} in jobsync.yaml{check}')
    if section == 'cdm_clusters':
        return (f'add it under {folder}, fix the name, or map the cluster for target {target.name!r}: '
                f'targets.{target.name}.remap.cdm_clusters in jobsync.yaml{check}')
    return f'add it under {folder} or fix the name{check}'


def _unused_remaps(ctx: _Context, config_doc: yamlio.Document | None) -> list[Diagnostic]:
    """Remap entries of the target that matched no name in the repo: most likely a typo."""
    out = []
    for section, names in sorted(ctx.target.remap.items()):
        for name in sorted(names):
            if (section, name) in ctx.renamed:
                continue
            pointer = (f'/targets/{secrets.escape_pointer(ctx.target.name)}/remap/{section}/'
                       f'{secrets.escape_pointer(name)}')
            out.append(Diagnostic('warning', f'remap entry {section}.{name} matches nothing in the repo',
                                  config_doc.where(pointer) if config_doc else pointer,
                                  'names are matched exactly; check the spelling or remove the entry'))
    return out


def _folder_of(key: ObjectKey) -> str:
    if key.kind == 'cdm-link':
        return f'cdm/{key.cluster}/links/'
    if key.kind == 'cdm-job':
        return f'cdm/{key.cluster}/jobs/'
    return {'connection': 'connections/', 'resource': 'resources/', 'script': 'scripts/', 'job': 'jobs/'}[key.kind]
