"""The core commands: validate, plan, apply."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from jobsync import commands, secrets
from jobsync.apply import Event, check_no_conflicts
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
    fingerprint_key_from_env,
    lock_owner_from_env,
    parse_duration,
    secrets_dir_from,
)
from jobsync.errors import JobsyncError, UsageError
from jobsync.plan import Plan, Take
from jobsync.planseal import PLAN_KEY_ENV, seal
from jobsync.render.json import render_apply_json, render_plan_json
from jobsync.render.markdown import render_plan_markdown
from jobsync.render.text import render_apply_text, render_plan_text
from jobsync.state import Lock, state_key
from jobsync.workspace.base import Workspace

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


TakeOpt = Annotated[Take | None, typer.Option(
    '--take', help='Settle conflicts (changed in git and in the workspace since the last apply): git overwrites '
                   'the workspace, live keeps the workspace for `jobsync export`.', case_sensitive=False,
)]
PruneOpt = Annotated[bool, typer.Option(
    '--prune', help='Delete objects jobsync manages (per its state) that git no longer defines, inside the '
                    "target's scope.",
)]
MassDeleteOpt = Annotated[bool, typer.Option(
    '--allow-mass-delete', help="Allow --prune to delete more than the target's prune.max_delete_share of the "
                                'managed objects.',
)]


@app.command()
def plan(
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    ref: RefOpt = None,
    fmt: FormatOpt = Format.TEXT,
    out: Annotated[Path | None, typer.Option(
        '--out', help='Also save the plan document (JSON) for `jobsync apply PLAN_FILE`.')] = None,
    detailed_exitcode: Annotated[bool, typer.Option(
        '--detailed-exitcode', help='Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.',
    )] = False,
    refresh_secrets: RefreshSecretsOpt = False,
    base: Annotated[str | None, typer.Option(
        '--base', help="Also show which definitions this branch changes relative to git revision REV (the pull "
                       "request's base), to tell them from changes already pending in the workspace.",
        metavar='REV')] = None,
    take: TakeOpt = None,
    prune: PruneOpt = False,
    allow_mass_delete: MassDeleteOpt = False,
    artifact_url: Annotated[str | None, typer.Option(
        '--artifact-url', help='Markdown: where the full plan is kept (CI artifact), linked when diffs are cut.',
    )] = None,
    secrets_dir: SecretsDirOpt = None,
) -> None:
    """Show what apply would change in the target's workspace. Never writes to the workspace.

    With JOBSYNC_FINGERPRINT_KEY set, secrets that resolve are fingerprinted to detect rotation
    (shown as "secret changed", never as a value); without it, plan resolves no secret.
    """
    output = Output()
    with error_handler(output):
        loaded, workspace = commands.load_online(repo, ref, target)
        try:
            output.err(diagnostics_text(loaded.result.warnings))
            base_loaded = commands.load_base(loaded, base) if base is not None else None
            key = fingerprint_key_from_env()
            resolver = (secrets.default_resolver(output.redactor, os.environ, secrets_dir_from(secrets_dir))
                        if key else None)
            options = commands.plan_options(loaded.target, refresh_secrets=refresh_secrets, take=take, prune=prune,
                                            allow_mass_delete=allow_mass_delete)
            the_plan = commands.plan_command(loaded, workspace, options=options, base=base_loaded,
                                             resolver=resolver, fingerprint_key=key)
        finally:
            workspace.close()
        if out is not None:
            out.write_text(seal(output.redactor.scrub(render_plan_json(the_plan)), os.environ.get(PLAN_KEY_ENV)),
                           encoding='utf-8')
        output.out(_render_plan(the_plan, fmt, artifact_url or (str(out) if out is not None else None)))
        check_no_conflicts(the_plan, planning=True)
    if detailed_exitcode and the_plan.has_changes:
        raise typer.Exit(EXIT_CHANGES)


def _render_plan(the_plan: Plan, fmt: Format, artifact: str | None) -> str:
    if fmt is Format.JSON:
        return render_plan_json(the_plan)
    if fmt is Format.MARKDOWN:
        return render_plan_markdown(the_plan, artifact=artifact)
    return render_plan_text(the_plan)


@app.command()
def apply(
    plan_file: Annotated[Path | None, typer.Argument(
        help='A plan saved by `plan --out`: apply exactly it, without the repo. Refused if anything it would '
             'write changed in the workspace since.', show_default=False)] = None,
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    ref: RefOpt = None,
    fmt: FormatOpt = Format.TEXT,
    auto_approve: Annotated[
        bool, typer.Option('--auto-approve', help='Apply without asking for confirmation.'),
    ] = False,
    secrets_dir: SecretsDirOpt = None,
    refresh_secrets: RefreshSecretsOpt = False,
    take: TakeOpt = None,
    prune: PruneOpt = False,
    allow_mass_delete: MassDeleteOpt = False,
    lock_timeout: Annotated[str, typer.Option(
        '--lock-timeout', help='How long to wait for the lock on the target if another apply holds it '
                               '(90, 90s, 5m).')] = '0s',
) -> None:
    """Plan, show the plan, confirm, then import the changes in batches in dependency order.

    Given PLAN_FILE, apply executes exactly that saved plan (no confirmation: it was reviewed).
    Apply holds a lease lock on the target while it runs and records what it applied (the state).
    """
    output = Output()
    with error_handler(output):
        timeout = parse_duration(lock_timeout, option='--lock-timeout')
        resolver = secrets.default_resolver(output.redactor, os.environ, secrets_dir_from(secrets_dir))
        key = fingerprint_key_from_env()

        def progress(event: Event) -> None:
            output.err(f'  {event.message}\n')

        if plan_file is not None:
            fixed = [name for name, given in (('--ref', ref is not None), ('--take', take is not None),
                                              ('--prune', prune), ('--allow-mass-delete', allow_mass_delete),
                                              ('--refresh-secrets', refresh_secrets)) if given]
            if fixed:
                raise UsageError(f'{", ".join(fixed)} cannot be combined with a saved plan: the plan fixed them',
                                 hint='pass them to `jobsync plan --out`, or apply without a plan file')
            the_plan = _read_plan(plan_file)
            commands.check_plan_target(the_plan, target)
            workspace = commands.open_plan_target(the_plan, repo)
            try:
                lease = _lease(workspace, commands.plan_state_key(the_plan), timeout, output)
                try:
                    applied = commands.apply_saved_plan(the_plan, workspace, resolver, progress, lease=lease,
                                                        fingerprint_key=key)
                finally:
                    lease.release()
            finally:
                workspace.close()
            if not the_plan.writes and fmt is not Format.JSON:
                output.out('Nothing to apply: the plan has no changes.\n')
                return
        else:
            loaded, workspace = commands.load_online(repo, ref, target)
            try:
                output.err(diagnostics_text(loaded.result.warnings))
                options = commands.plan_options(loaded.target, refresh_secrets=refresh_secrets, take=take,
                                                prune=prune, allow_mass_delete=allow_mass_delete)
                lease = _lease(workspace, state_key(loaded.target.name, loaded.target.scope), timeout, output)
                try:
                    # Listed again under the lock: what loading listed may have moved before we held it.
                    the_plan = commands.plan_command(dataclasses.replace(loaded, listing=None), workspace,
                                                     options=options, resolver=resolver if key else None,
                                                     fingerprint_key=key)
                    if fmt is not Format.JSON:
                        output.out(_render_plan(the_plan, fmt, None))
                    check_no_conflicts(the_plan)
                    if the_plan.writes:
                        _confirm(auto_approve, output)
                    applied = commands.apply_command(the_plan, workspace, resolver, progress, lease=lease,
                                                     fingerprint_key=key)
                finally:
                    lease.release()
            finally:
                workspace.close()
            if not the_plan.writes and fmt is not Format.JSON:
                return
        result = applied.result
        output.out(render_apply_json(result) if fmt is Format.JSON else render_apply_text(result))
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)


def _read_plan(path: Path) -> Plan:
    try:
        text = path.read_text(encoding='utf-8')
    except OSError as err:
        raise UsageError(f'cannot read the plan file {path}: {err.strerror}',
                         hint='pass the file written by `jobsync plan --out`') from None
    return commands.read_plan(text, where=str(path), key=os.environ.get(PLAN_KEY_ENV))


def _lease(workspace: Workspace, target: str, timeout: float, output: Output) -> commands.Lease:
    owner, run_url = lock_owner_from_env()

    def waiting(holder: Lock) -> None:
        output.err(f'Target {target} is locked by {holder.describe()}; waiting up to {timeout:g}s.\n')

    return commands.acquire_lease(workspace, target, owner=owner, run_url=run_url, timeout_s=timeout,
                                  on_wait=waiting)


def _confirm(auto_approve: bool, output: Output) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise JobsyncError('refusing to apply without confirmation: there is no terminal to ask on',
                           hint='review the plan above, then re-run with --auto-approve (as CI does)')
    if not typer.confirm('Apply these changes?', default=False):
        output.err('Apply cancelled; nothing was written.\n')
        raise typer.Exit(EXIT_ERROR)


