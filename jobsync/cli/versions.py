"""`jobsync versions JOB [--version N]`: a Factory job's version number, or one submitted version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from jobsync import jsontext
from jobsync.cli.app import app
from jobsync.cli.common import (
    TEXT_JSON,
    Format,
    Output,
    RepoOpt,
    TargetOpt,
    TextJsonFormatOpt,
    error_handler,
    read_env,
    require_format,
)
from jobsync.cli.root import find_root
from jobsync.commands import console
from jobsync.commands.versions import LIST_NOTE, JobVersions, job_versions
from jobsync.errors import UsageError


@app.command()
def versions(
    job: Annotated[str, typer.Argument(help='The Factory job, by name or as job/NAME.', show_default=False)],
    version: Annotated[int | None, typer.Option(
        '--version', help='Show this submitted version of the job (its definition as the service answers it).',
        metavar='N')] = None,
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    fmt: TextJsonFormatOpt = Format.TEXT,
) -> None:
    """Show the version number the workspace is at for a Factory job, or one version with --version N.

    Every create, update and import of a job submits a version, numbered 1, 2, ... The DataArts
    API has no operation that lists them: ShowJob answers the latest number and fetches a
    version by number, which is what this command does.
    """
    output = Output()
    with error_handler(output, fmt):
        require_format('versions', fmt, TEXT_JSON, output)
        if version is not None and version < 1:
            raise UsageError(f'--version {version}: versions are numbered from 1', hint='e.g. --version 1')
        with console.open_target(find_root(repo), target, read_env()) as opened:
            found = job_versions(opened, job, version)
        output.out(_json(found) if fmt is Format.JSON else _text(found))


def _json(found: JobVersions) -> str:
    doc: dict[str, Any] = {'job': str(found.key), 'current_version': found.current, 'listable': False,
                           'note': LIST_NOTE}
    if found.shown is not None:
        doc.update(version=found.shown, definition=found.definition)
    return jsontext.pretty(doc) + '\n'


def _text(found: JobVersions) -> str:
    now = f'version {found.current}' if found.current is not None else 'no version number given by the service'
    head = f'{found.key}: {now} (the latest submitted; versions are numbered from 1)\n'
    if found.shown is None:
        return head + f'Note: {LIST_NOTE}.\n'
    body = json.dumps(found.definition, indent=2, ensure_ascii=False)
    return head + f'Version {found.shown}:\n{body}\n'
