"""The core commands: validate, plan, apply."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from jobsync import commands, secrets
from jobsync.apply import ApplyResult, Event
from jobsync.cli.app import app
from jobsync.cli.common import (
    EXIT_CHANGES,
    EXIT_ERROR,
    Format,
    FormatOpt,
    Output,
    RefOpt,
    RepoOpt,
    SecretsDirOpt,
    TargetOpt,
    diagnostics_text,
    error_handler,
    secrets_dir_from,
)
from jobsync.errors import JobsyncError
from jobsync.render.json import render_apply_json, render_plan_json
from jobsync.render.text import render_apply_text, render_plan_text

RefreshSecretsOpt = Annotated[bool, typer.Option(
    '--refresh-secrets', help='Re-send every object carrying secrets, even if unchanged (secret rotation).',
)]


@app.command()
def validate(
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    ref: RefOpt = None,
    online: Annotated[bool, typer.Option(
        '--online', help="Also accept references to objects that exist in the target's workspace (one list round).",
    )] = False,
    check_secrets: Annotated[bool, typer.Option(
        '--check-secrets', help='Also confirm every secret reference resolves for the target (no value is shown).',
    )] = False,
    secrets_dir: SecretsDirOpt = None,
) -> None:
    """Check every definition for the target (syntax, schema, names, variables, remapping, scope,
    references) and report all problems."""
    output = Output()
    with error_handler(output):
        if online:
            loaded, workspace = commands.load_online(repo, ref, target)
            workspace.close()
        else:
            loaded = commands.load(repo, ref, target)
        output.err(diagnostics_text(loaded.result.warnings))
        if check_secrets:
            resolver = secrets.default_resolver(output.redactor, os.environ, secrets_dir_from(secrets_dir))
            problems = commands.check_secrets(loaded, resolver)
            if problems:
                output.err(''.join(f'error: {p}\n' for p in problems))
                raise JobsyncError(
                    f'{len(problems)} secret reference(s) do not resolve for target {loaded.target.name}',
                    hint='set the environment variables or secret files named above',
                )
        checked = ' and every secret reference resolves' if check_secrets else ''
        output.out(f'OK: {len(loaded.result.desired)} definitions valid for target {loaded.target.name}{checked}.\n')


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
    refresh_secrets: RefreshSecretsOpt = False,
) -> None:
    """Show what apply would change in the target's workspace. Never writes to the workspace."""
    output = Output()
    with error_handler(output):
        loaded, workspace = commands.load_online(repo, ref, target)
        output.err(diagnostics_text(loaded.result.warnings))
        try:
            the_plan = commands.plan_command(loaded, workspace, refresh_secrets=refresh_secrets)
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
    refresh_secrets: RefreshSecretsOpt = False,
) -> None:
    """Plan, show the plan, confirm, then import the changes in batches in dependency order."""
    output = Output()
    with error_handler(output):
        loaded, workspace = commands.load_online(repo, ref, target)
        output.err(diagnostics_text(loaded.result.warnings))
        try:
            the_plan = commands.plan_command(loaded, workspace, refresh_secrets=refresh_secrets)
            if fmt is Format.TEXT:
                output.out(render_plan_text(the_plan))
            if not the_plan.has_changes:
                if fmt is Format.JSON:
                    output.out(render_apply_json(ApplyResult(())))
                return
            _confirm(auto_approve, output)
            resolver = secrets.default_resolver(output.redactor, os.environ, secrets_dir_from(secrets_dir))

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


