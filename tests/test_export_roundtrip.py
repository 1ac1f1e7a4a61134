"""Export patches a YAML definition in place: a console change rewrites the changed lines only.

A real git copy of examples/repo, applied to its real local workspace; "someone changes it in the
console" is the local workspace's import; the export is the command's own pipeline, in process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import git
import pytest
from conftest import EXAMPLE_SECRETS, git_commit_all

from jobsync import commands, export, gitrepo, load, safewrite, selection
from jobsync.export import roundtrip
from jobsync.model import ObjectKey
from jobsync.secrets import Redactor, default_resolver
from jobsync.workspace.local import LocalWorkspace

DAILY = ObjectKey('job', 'mysql_to_dws_daily')
DAILY_FILE = 'jobs/mysql_to_dws_daily.yaml'


def _comment(repo: Path, rel: str, edits: list[tuple[str, str]]) -> str:
    """Put comments into a file of the repo: each (line as it is, text to put instead), exactly once."""
    path = repo / rel
    text = path.read_text()
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text)
    return text


@pytest.fixture
def commented(example_repo: Path) -> Path:
    """examples/repo with comments above, inside and after fields, committed."""
    _comment(example_repo, DAILY_FILE, [
        ('schedule:\n', 'schedule:  # when it runs\n'),
        ('  cron:\n', '  # the cron, in Beijing time\n  cron:\n'),
        ('    expression: "0 0 1 * * ?"\n',
         '    # nightly, after the shop closes\n'
         '    expression: "0 0 1 * * ?"   # quoted as the console shows it\n'
         '    # the zone the expression is in\n'),
        ('  - name: load_customers\n', '  # customers change rarely\n  - name: load_customers\n'),
        ('  - name: load_products\n', '  # products come last\n  - name: load_products\n'),
        ('  - name: merge_orders\n', '\n  # the merge waits for all three loads\n  - name: merge_orders\n'),
        ('    failPolicy: FAIL\n', '    failPolicy: FAIL  # a failed merge stops the job\n# end of the job\n'),
    ])
    git_commit_all(example_repo, 'comments')
    return example_repo


@pytest.fixture
def ws(commented: Path) -> Iterator[LocalWorkspace]:
    """The commented repo applied to its workspace, so that export starts from a workspace git matches."""
    workspace = LocalWorkspace(commented / '.jobsync' / 'workspace.db')
    loaded = commands.load(commented, None, None)
    plan = commands.plan_command(loaded, workspace, options=commands.plan_options(loaded.target))
    applied = commands.apply_command(plan, workspace, default_resolver(Redactor(), EXAMPLE_SECRETS), lambda _e: None)
    assert applied.result.ok
    yield workspace
    workspace.close()


def _console(ws: LocalWorkspace, key: ObjectKey, edit: Callable[[dict[str, Any]], None]) -> None:
    spec = ws.read([key])[key].spec
    edit(spec)
    ws.import_objects([(key, spec)])


def _export_all(repo: Path, ws: LocalWorkspace) -> export.ExportResult:
    """What `jobsync export --all` does (cli/export.py), without the command line."""
    snapshot = gitrepo.read_snapshot(repo)
    config = load.load_config(snapshot)
    the_target = config.target(None)
    scope = selection.Scope(all=True)
    entries = ws.list_objects()
    live = selection.read_scope(ws, scope, entries=entries, within=the_target.scope)
    desired, _notes = export.load_for_target(snapshot, the_target.name, present=entries.keys())
    result = export.export_objects(live, export.index_repo(snapshot.files), desired=desired,
                                   remap=the_target.remap, in_scope=lambda k, s: selection.selects(scope, k, s),
                                   secret_fields=config.secret_fields)
    assert not result.refused
    safewrite.write_files(repo, result.files)
    return result


def _diff(repo: Path) -> list[str]:
    """The changed lines of the working tree against HEAD, as `-old` / `+new`."""
    text = git.Repo(repo).git.diff('--unified=0', '--no-color')
    return [line for line in text.splitlines()
            if line[:1] in '+-' and not line.startswith(('+++', '---'))]


def test_a_one_field_change_rewrites_that_line_only(commented: Path, ws: LocalWorkspace) -> None:
    before = (commented / DAILY_FILE).read_text()
    _console(ws, DAILY, lambda s: s['schedule']['cron'].update(expression='0 30 1 * * ?'))
    result = _export_all(commented, ws)
    assert [(str(o.key), o.status) for o in result.objects if o.status != 'unchanged'] == [
        ('job/mysql_to_dws_daily', 'changed')]
    assert list(result.files) == [DAILY_FILE]
    assert _diff(commented) == [
        '-    expression: "0 0 1 * * ?"   # quoted as the console shows it',
        '+    expression: "0 30 1 * * ?"  # quoted as the console shows it',  # the comment keeps its column
    ]
    after = (commented / DAILY_FILE).read_text()
    assert after == before.replace('"0 0 1 * * ?"   #', '"0 30 1 * * ?"  #')
    # flow collections and quoted strings elsewhere are as they were
    assert '    location: {x: "-240", y: "-120"}\n' in after
    assert '    preNodeName: [load_orders, load_customers, load_products]\n' in after
    assert '    startTime: "2025-01-01T01:00:00+08"\n' in after
    assert not commands.plan_command(commands.load(commented, None, None), ws).has_changes


def test_removing_and_adding_nodes_keeps_the_other_nodes_comments(commented: Path, ws: LocalWorkspace) -> None:
    def edit(spec: dict[str, Any]) -> None:
        nodes = [n for n in spec['nodes'] if n['name'] != 'load_customers']
        merge = next(n for n in nodes if n['name'] == 'merge_orders')
        merge['preNodeName'] = ['load_orders', 'load_products']
        nodes.append({**merge, 'name': 'notify', 'type': 'Dummy', 'preNodeName': ['merge_orders'],
                      'properties': [], 'location': {'x': '200', 'y': '0'}})
        spec['nodes'] = nodes

    _console(ws, DAILY, edit)
    _export_all(commented, ws)
    after = (commented / DAILY_FILE).read_text()
    removed = [line[1:] for line in _diff(commented) if line.startswith('-')]
    assert '  # customers change rarely' in removed and '  - name: load_customers' in removed
    assert '    preNodeName: [load_orders, load_customers, load_products]' in removed
    assert len(removed) == 14  # the node's comment and 12 lines, and the changed preNodeName
    for kept in ('# products come last\n  - name: load_products\n',
                 '\n\n  # the merge waits for all three loads\n  - name: merge_orders\n',
                 '    preNodeName: [load_orders, load_products]\n',
                 '    failPolicy: FAIL  # a failed merge stops the job\n  - name: notify\n    type: Dummy\n'):
        assert kept in after, kept
    assert after.endswith('# end of the job\n')
    assert '    location: {x: "200", y: "0"}\n' in after  # a new node in the house style
    assert not commands.plan_command(commands.load(commented, None, None), ws).has_changes


def test_a_removed_field_takes_its_own_comment_and_leaves_the_next_ones(commented: Path,
                                                                        ws: LocalWorkspace) -> None:
    def edit(spec: dict[str, Any]) -> None:
        merge = next(n for n in spec['nodes'] if n['name'] == 'merge_orders')
        merge['properties'] = [p for p in merge['properties'] if p['name'] != 'database']
        merge['properties'].insert(0, {'name': 'comment', 'value': 'x'})

    _comment(commented, DAILY_FILE, [('      database: dw\n', '      # the warehouse\n      database: dw\n'
                                                             '      # the properties end here\n')])
    git_commit_all(commented, 'more comments')
    _console(ws, DAILY, edit)
    _export_all(commented, ws)
    assert _diff(commented) == ['-      # the warehouse', '-      database: dw', '+      comment: x']
    assert '      connectionName: doctest\n      comment: x\n      # the properties end here\n' in (
        commented / DAILY_FILE).read_text()


# --- the patcher on its own: what it keeps, and when it declines --------------------------------

def _patch(text: str, new: dict[str, Any]) -> str | None:
    from jobsync import yamlio

    doc, _ = yamlio.parse('x.yaml', text.encode())
    assert doc is not None
    return roundtrip.patch_yaml(text.encode(), doc.data, new, roundtrip.HouseStyle())


def test_unchanged_parts_keep_their_bytes_odd_layout_included() -> None:
    text = ('# top\n'
            'a:   1\n'
            "b: 'single'  # eol\n"
            'c:\n'
            '- x\n'
            '- y\n'
            'd: {p: 1, q: [1, 2]}\n'
            'e: |\n'
            '  line one\n'
            '  line two\n'
            'f: 2\n'
            '\n'
            '# the end\n')
    out = _patch(text, {'a': 1, 'b': 'single', 'c': ['x', 'y'], 'd': {'p': 1, 'q': [1, 2]},
                        'e': 'line one\nline two\n', 'f': 3})
    assert out == text.replace('a:   1', 'a: 1').replace('f: 2', 'f: 3')  # ruamel normalises `a:   1` only


def test_new_strings_are_quoted_where_pyyaml_would_read_them_otherwise() -> None:
    out = _patch('a: x\nb: y\nc: "z"\n', {'a': 'yes', 'b': '010', 'c': 'w'})
    assert out == 'a: "yes"\nb: "010"\nc: "w"\n'


@pytest.mark.parametrize('text', [
    pytest.param('a: 1\na: 1\nb: 1\n', id='duplicate-key'),
    pytest.param('a: 1\r\nb: 2\r\n', id='crlf'),
    pytest.param('\ufeffa: 1\nb: 2\n', id='bom'),
])
def test_a_file_it_cannot_keep_faithfully_is_declined(text: str) -> None:
    assert roundtrip.patch_yaml(text.encode(), {'a': 1, 'b': 1}, {'a': 2, 'b': 1}, roundtrip.HouseStyle()) is None


def test_a_declined_file_is_written_whole_with_its_leading_comment(tmp_path: Path) -> None:
    entry = export.RepoEntry(DAILY, DAILY_FILE, header='# kept\n', raw=b'# kept\nnodes: [\n')
    from jobsync.export.write import _yaml_file

    assert _yaml_file({'processType': 'BATCH'}, entry) == '# kept\nprocessType: BATCH\n'


def test_a_new_job_is_written_without_the_defaults_the_export_filled(commented: Path, ws: LocalWorkspace) -> None:
    """A job made in the console comes back in an export full of template defaults (jobdefaults.py);
    its new file says only what differs from them, and plans as unchanged."""
    spec = ws.read([DAILY])[DAILY].spec
    spec['name'] = 'made_in_console'
    ws.import_objects([(ObjectKey('job', 'made_in_console'), spec)])
    result = _export_all(commented, ws)
    (new_file,) = [path for path in result.files if 'made_in_console' in path]
    text = (commented / new_file).read_text()
    assert 'pollingInterval: 10' not in text and 'scheduleOffset' not in text and 'cleanOverdueDays' not in text
    git_commit_all(commented, 'adopt the console job')
    loaded = commands.load(commented, None, None)
    plan = commands.plan_command(loaded, ws, options=commands.plan_options(loaded.target))
    assert not plan.change(ObjectKey('job', 'made_in_console')).fields
