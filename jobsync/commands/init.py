"""`jobsync init`: start a definitions repo in an empty or existing git repo.

Writes what is missing, never overwrites: `jobsync.yaml` (a `local:` target and a commented
`dataarts` one), `.gitignore` (`.jobsync/`, where local workspaces and caches live), the JSON
schemas under `.vscode/jobsync-schemas/` and the editor mapping in `.vscode/settings.json`.
With `from_target`, the caller then adopts what that target's workspace holds (`export --all`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from jobsync.errors import UsageError
from jobsync.schema import schema_dir

SCHEMA_FOLDER = '.vscode/jobsync-schemas'

CONFIG = """\
# jobsync.yaml: where this repo's definitions are applied (`jobsync plan --target NAME`).
# Reference: the jobsync README; schema: .vscode/jobsync-schemas/jobsync.schema.json
default_target: local

targets:
  local:
    description: Embedded workspace for trying changes on a laptop or in CI (no cloud credentials).
    workspace: local:.jobsync/workspace.db

  # prod:
  #   description: DataArts Studio itself. Credentials come from the environment:
  #     HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK (or JOBSYNC_DATAARTS_TOKEN), never from this file.
  #   workspace: dataarts
  #   expressionTimeZone: Asia/Shanghai
  #   dataarts:
  #     region: cn-north-4                            # gives the default endpoints
  #     project_id: 0123456789abcdef0123456789abcdef  # the region's project id
  #     workspace_id: your-workspace-id               # DataArts Studio workspace (instance) id
"""

# yaml-language-server (VS Code's YAML extension) prefixes a pattern without a leading `/` with
# `**/`, so `jobs/**/*.yaml` would also match `cdm/*/jobs/`: every pattern is anchored at the
# workspace root with `/`, and templates are mapped to their own schema (and excluded from the
# kind's schema, which they do not follow).
SCHEMA_GLOBS: dict[str, list[str]] = {
    'job': ['/jobs/**/*.yaml', '!/jobs/**/*.template.yaml'],
    'script': ['/scripts/**/*.yaml'],
    'resource': ['/resources/**/*.yaml'],
    'connection': ['/connections/**/*.yaml', '!/connections/**/*.template.yaml'],
    'cdm-link': ['/cdm/*/links/**/*.yaml', '!/cdm/*/links/**/*.template.yaml'],
    'cdm-job': ['/cdm/*/jobs/**/*.yaml', '!/cdm/*/jobs/**/*.template.yaml'],
    'template': ['/**/*.template.yaml'],
    'jobsync': ['/jobsync.yaml'],
}


def editor_settings(folder: str = SCHEMA_FOLDER) -> dict[str, object]:
    """The `.vscode/settings.json` mapping of each schema onto the repo layout."""
    return {
        'yaml.schemas': {f'./{folder}/{kind}.schema.json': globs for kind, globs in SCHEMA_GLOBS.items()},
        'files.associations': {'*.job': 'json'},
        'json.schemas': [{'fileMatch': ['/jobs/**/*.job'], 'url': f'./{folder}/job.schema.json'}],
    }


@dataclass
class Initialized:
    root: Path
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # already there: left as they were


def init_repo(root: Path) -> Initialized:
    """Write the missing start files into `root`, a git work tree (UsageError otherwise)."""
    if not root.is_dir():
        raise UsageError(f'{root} is not a folder', hint='create it, `git init` it, then run `jobsync init` there')
    if not (root / '.git').exists():
        raise UsageError(f'{root} is not the top level of a git repo',
                         hint='run `git init` first (jobsync reads definitions from git), or pass the top level')
    done = Initialized(root)
    _write_new(done, 'jobsync.yaml', CONFIG)
    _ignore_workspace(done)
    for source in sorted(schema_dir().iterdir(), key=lambda entry: entry.name):
        if source.name.endswith('.schema.json') and source.name not in ('plan.schema.json', 'state.schema.json'):
            _write_new(done, f'{SCHEMA_FOLDER}/{source.name}', source.read_text(encoding='utf-8'))
    _write_new(done, '.vscode/settings.json', json.dumps(editor_settings(), indent=2) + '\n')
    return done


def _write_new(done: Initialized, relative: str, text: str) -> None:
    path = done.root / relative
    if path.exists():
        done.kept.append(relative)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding='utf-8')
    done.written.append(relative)


def _ignore_workspace(done: Initialized) -> None:
    path = done.root / '.gitignore'
    current = path.read_text(encoding='utf-8') if path.exists() else ''
    if any(line.strip() in ('.jobsync', '.jobsync/', '/.jobsync', '/.jobsync/') for line in current.splitlines()):
        done.kept.append('.gitignore')
        return
    prefix = '' if not current or current.endswith('\n') else '\n'
    path.write_text(f'{current}{prefix}# jobsync: local workspaces and caches\n.jobsync/\n', encoding='utf-8')
    done.written.append('.gitignore')
