"""The command line: the only place that reads argv and env, prints, prompts and exits.

Exit codes: 0 success (plan: nothing to do), 1 expected failure, 2 changes present (plan
--detailed-exitcode), 3 a bug in jobsync, 64 a usage error, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import click
import typer

from jobsync import commands, secrets
from jobsync.apply import ApplyResult, Event
from jobsync.errors import ConfigError, Diagnostic, JobsyncError
from jobsync.render.json import render_apply_json, render_plan_json
from jobsync.render.text import render_apply_text, render_plan_text

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_BUG, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 3, 64, 130

app = typer.Typer(
    name='jobsync',
    help='GitOps for Huawei Cloud DataArts Studio: validate, plan and apply Factory jobs, scripts, '
         'resources, data connections and CDM links and jobs kept in git.',
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Format(str, Enum):
    TEXT = 'text'
    JSON = 'json'


RepoOpt = Annotated[Path, typer.Option('--repo', help='Path to the definitions repo.', show_default='.')]
TargetOpt = Annotated[
    str | None, typer.Option('--target', help='Target from jobsync.yaml (default: its default_target).'),
]
RefOpt = Annotated[
    str | None, typer.Option('--ref', help='Read definitions from this git revision instead of the working tree.'),
]
FormatOpt = Annotated[Format, typer.Option('--format', help='Output format.')]
SecretsDirOpt = Annotated[
    Path | None,
    typer.Option('--secrets-dir', help='Directory for ${secret:file:...} references [env: JOBSYNC_SECRETS_DIR].'),
]


class Output:
    """Every byte jobsync prints passes through the redactor."""

    def __init__(self) -> None:
        self.redactor = secrets.Redactor()

    def out(self, text: str) -> None:
        sys.stdout.write(self.redactor.scrub(text))
        sys.stdout.flush()

    def err(self, text: str) -> None:
        sys.stderr.write(self.redactor.scrub(text))
        sys.stderr.flush()


def _diagnostics_text(diagnostics: tuple[Diagnostic, ...]) -> str:
    return ''.join(f'{d}\n' for d in diagnostics)


@contextmanager
def error_handler(output: Output) -> Iterator[None]:
    try:
        yield
    except ConfigError as err:
        output.err(_diagnostics_text(err.diagnostics))
        output.err(f'Error: {err.message}.\n')
        raise typer.Exit(EXIT_ERROR) from None
    except JobsyncError as err:
        output.err(f'Error: {err}\n' + (f'  hint: {err.hint}\n' if err.hint else ''))
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        output.err('Interrupted.\n')
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (typer.Exit, click.exceptions.ClickException, click.exceptions.Abort):
        raise
    except Exception as err:  # a bug: say so, without a traceback a user cannot act on
        output.err(f'Internal error: {type(err).__name__}: {err}\n'
                   '  This is a bug in jobsync; please report it with the command you ran '
                   '(set JOBSYNC_DEBUG=1 for a traceback).\n')
        if os.environ.get('JOBSYNC_DEBUG'):
            raise
        raise typer.Exit(EXIT_BUG) from None


def _secrets_dir(option: Path | None) -> Path | None:
    if option is not None:
        return option
    env = os.environ.get('JOBSYNC_SECRETS_DIR')
    return Path(env) if env else None


@app.command()
def validate(
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    ref: RefOpt = None,
) -> None:
    """Check every definition (YAML/JSON syntax, schema, names, references) and report all problems."""
    output = Output()
    with error_handler(output):
        loaded = commands.load(repo, ref, target)
        output.err(_diagnostics_text(loaded.result.warnings))
        output.out(f'OK: {len(loaded.result.desired)} definitions valid for target {loaded.target.name}.\n')


@app.command()
def plan(
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    ref: RefOpt = None,
    fmt: FormatOpt = Format.TEXT,
    out: Annotated[Path | None, typer.Option('--out', help='Also save the plan document as JSON.')] = None,
    detailed_exitcode: Annotated[bool, typer.Option(
        '--detailed-exitcode', help='Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.',
    )] = False,
) -> None:
    """Show what apply would change in the target's workspace. Never writes to the workspace."""
    output = Output()
    with error_handler(output):
        loaded = commands.load(repo, ref, target)
        output.err(_diagnostics_text(loaded.result.warnings))
        workspace = commands.open_target(loaded)
        try:
            the_plan = commands.plan_command(loaded, workspace)
        finally:
            workspace.close()
        if out is not None:
            out.write_text(output.redactor.scrub(render_plan_json(the_plan)), encoding='utf-8')
        output.out(render_plan_json(the_plan) if fmt is Format.JSON else render_plan_text(the_plan))
    if detailed_exitcode and the_plan.has_changes:
        raise typer.Exit(EXIT_CHANGES)


@app.command()
def apply(
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    ref: RefOpt = None,
    fmt: FormatOpt = Format.TEXT,
    auto_approve: Annotated[
        bool, typer.Option('--auto-approve', help='Apply without asking for confirmation.'),
    ] = False,
    secrets_dir: SecretsDirOpt = None,
) -> None:
    """Plan, show the plan, confirm, then import the changes in batches in dependency order."""
    output = Output()
    with error_handler(output):
        loaded = commands.load(repo, ref, target)
        output.err(_diagnostics_text(loaded.result.warnings))
        workspace = commands.open_target(loaded)
        try:
            the_plan = commands.plan_command(loaded, workspace)
            if fmt is Format.TEXT:
                output.out(render_plan_text(the_plan))
            if not the_plan.has_changes:
                if fmt is Format.JSON:
                    output.out(render_apply_json(ApplyResult(())))
                return
            _confirm(auto_approve, output)
            resolver = secrets.default_resolver(output.redactor, os.environ, _secrets_dir(secrets_dir))

            def progress(event: Event) -> None:
                output.err(f'  {event.message}\n')

            result = commands.apply_command(the_plan, workspace, resolver, progress)
        finally:
            workspace.close()
        output.out(render_apply_json(result) if fmt is Format.JSON else render_apply_text(result))
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)


def _confirm(auto_approve: bool, output: Output) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise JobsyncError('refusing to apply without confirmation: there is no terminal to ask on',
                           hint='review the plan above, then re-run with --auto-approve (as CI does)')
    if not typer.confirm('Apply these changes?', default=False):
        output.err('Apply cancelled; nothing was written.\n')
        raise typer.Exit(EXIT_ERROR)


def main() -> NoReturn:
    """Entry point: click's usage errors exit 64, so CI never reads a typo as 'changes present'."""
    try:
        code = app(standalone_mode=False)
    except click.exceptions.UsageError as err:
        err.show()
        code = EXIT_USAGE
    except click.exceptions.Abort:
        sys.stderr.write('Aborted.\n')
        code = EXIT_INTERRUPTED
    except click.exceptions.ClickException as err:
        err.show()
        code = EXIT_ERROR
    sys.exit(code if isinstance(code, int) else 0)
