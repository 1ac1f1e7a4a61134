"""`jobsync init`: a start in an empty or existing git repo; `--from-target` adopts a workspace."""

from __future__ import annotations

import json
import re
from pathlib import Path

import git
import yaml
from cli_runner import EXAMPLE_SECRETS, run_jobsync

from jobsync.commands.init import SCHEMA_GLOBS


def _glob(pattern: str) -> re.Pattern[str]:
    """A glob as editors read it: `**/` any folders (or none), `*` within one name."""
    parts = re.split(r'(\*\*/|\*)', pattern)
    body = ''.join('(?:.*/)?' if part == '**/' else '[^/]*' if part == '*' else re.escape(part) for part in parts)
    return re.compile(f'{body}$')


def _matches(pattern: str, path: str) -> bool:
    """yaml-language-server's reading: a pattern without a leading `/` is prefixed with `**/`."""
    anchored = pattern[1:] if pattern.startswith('/') else f'**/{pattern}'
    return _glob(anchored).match(path) is not None


def test_an_unanchored_pattern_would_match_cdm_jobs() -> None:
    assert _matches('jobs/**/*.yaml', 'cdm/cdm-prod/jobs/orders.yaml')
    assert not _matches('/jobs/**/*.yaml', 'cdm/cdm-prod/jobs/orders.yaml')


def _schemas_for(path: str) -> list[str]:
    found = []
    for kind, globs in SCHEMA_GLOBS.items():
        included = any(_matches(g, path) for g in globs if not g.startswith('!'))
        excluded = any(_matches(g[1:], path) for g in globs if g.startswith('!'))
        if included and not excluded:
            found.append(kind)
    return found


def test_init_in_an_empty_git_repo_then_validate_and_plan(tmp_path: Path) -> None:
    git.Repo.init(tmp_path)
    result = run_jobsync('init', cwd=tmp_path)
    assert result.code == 0, result
    config = yaml.safe_load((tmp_path / 'jobsync.yaml').read_text())
    assert config['targets'] == {'local': {
        'description': config['targets']['local']['description'], 'workspace': 'local:.jobsync/workspace.db'}}
    assert '#   workspace: dataarts' in (tmp_path / 'jobsync.yaml').read_text()
    assert '.jobsync/' in (tmp_path / '.gitignore').read_text().splitlines()
    settings = json.loads((tmp_path / '.vscode' / 'settings.json').read_text())
    for schema in settings['yaml.schemas']:
        assert (tmp_path / schema).is_file(), schema
    assert run_jobsync('validate', cwd=tmp_path).code == 0
    assert run_jobsync('plan', '--detailed-exitcode', cwd=tmp_path).code == 0
    again = run_jobsync('init', cwd=tmp_path)
    assert again.code == 0 and 'wrote' not in again.stdout and 'kept jobsync.yaml' in again.stdout


def test_init_outside_git_is_refused(tmp_path: Path) -> None:
    result = run_jobsync('init', '--repo', str(tmp_path))
    assert result.code == 1 and 'git init' in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_editor_mapping_gives_each_example_file_its_schema() -> None:
    repo = Path(__file__).resolve().parents[1] / 'examples' / 'repo'
    expected = {'jobs': 'job', 'scripts': 'script', 'resources': 'resource', 'connections': 'connection'}
    for path in sorted(repo.rglob('*.yaml')):
        relative = path.relative_to(repo).as_posix()
        if relative.startswith('.jobsync/'):
            continue
        top = relative.split('/')[0]
        if relative.endswith('.template.yaml'):
            want = 'template'
        elif relative == 'jobsync.yaml':
            want = 'jobsync'
        elif top == 'cdm':
            want = 'cdm-link' if '/links/' in relative else 'cdm-job'
        else:
            want = expected[top]
        assert _schemas_for(relative) == [want], relative


def test_init_from_target_adopts_what_the_workspace_holds(example_repo: Path, tmp_path: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    fresh = tmp_path / 'fresh'
    fresh.mkdir()
    git.Repo.init(fresh)
    (fresh / 'jobsync.yaml').write_text(
        f'targets:\n  old:\n    workspace: local:{example_repo / ".jobsync" / "workspace.db"}\n')
    result = run_jobsync('init', '--from-target', 'old', cwd=fresh)
    assert result.code == 0, result
    assert (fresh / 'jobs' / 'job_batch.yaml').is_file() and (fresh / 'scripts' / 'merge_orders.sql').is_file()
    assert 'kept jobsync.yaml' in result.stdout
