"""`jobsync init`: start a definitions repo here (see jobsync/commands/init.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jobsync import selection
from jobsync.cli.app import app
from jobsync.cli.common import Output, error_handler, read_env
from jobsync.cli.root import git_top
from jobsync.commands.init import init_repo


@app.command('init')
def init_command(
    repo: Annotated[Path | None, typer.Option(
        '--repo', help='The git repo to start (default: the top level of the git repo around the current folder).',
        show_default=False)] = None,
    from_target: Annotated[str | None, typer.Option(
        '--from-target', metavar='NAME',
        help="Then adopt what target NAME's workspace holds, as `jobsync export --all` does.")] = None,
) -> None:
    """Start a definitions repo: jobsync.yaml (a local: target, a commented dataarts one),
    .gitignore (.jobsync/), and the editor schema mapping (.vscode/settings.json with the schemas
    in .vscode/jobsync-schemas/). Files already there are kept as they are.

    Editors without the mapping: put a modeline on a file's first line, for example
    `# yaml-language-server: $schema=../.vscode/jobsync-schemas/job.schema.json` (a path relative
    to the file, or a URL).
    """
    output = Output()
    with error_handler(output):
        given = repo if repo is not None else Path('.')
        root = repo if repo is not None else (git_top(Path.cwd().resolve()) or Path('.'))
        if repo is None and given.resolve() != root:
            output.err(f'Starting the repo at the git top level {root}.\n')
        done = init_repo(root)
        for name in done.written:
            output.out(f'wrote {name}\n')
        for name in done.kept:
            output.out(f'kept {name} (already there)\n')
        if from_target is not None:
            from jobsync.commands import pull  # the export machinery: only when adopting a workspace
            from jobsync.render.export import render_export_text

            exported = pull.export_workspace(root, from_target, read_env(), selection.Scope(all=True),
                                             pull.Writing())
            output.out(render_export_text(exported.result, exported.written))
        output.out('Next: jobsync validate && jobsync plan'
                   + (' (then commit what was written)' if done.written else '') + '\n')
