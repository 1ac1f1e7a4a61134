"""The core commands: validate, plan, apply."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated

import typer

from jobsync import commands
from jobsync.apply import ApplyResult, check_no_conflicts
from jobsync.cli.app import app
from jobsync.cli.common import (
    ALL_FORMATS,
    EXIT_CHANGES,
    EXIT_ERROR,
    TEXT_JSON,
    Format,
    FormatOpt,
    Output,
    RefOpt,
    RepoOpt,
    SecretsDirOpt,
    TargetOpt,
    TextJsonFormatOpt,
    diagnostics_text,
    error_handler,
    fingerprint_key_from_env,
    lock_owner_from_env,
    parse_duration,
    read_env,
    require_format,
    resolver_for,
)
from jobsync.cli.jsonerror import diagnostics_json
from jobsync.cli.progress import Reporter
from jobsync.cli.root import find_root
from jobsync.cli.terminal import wants_colour
from jobsync.commands import flow
from jobsync.errors import JobsyncError, UsageError
from jobsync.plan import Plan, SameName, Take
from jobsync.planfile import plan_to_json
from jobsync.planseal import PLAN_KEY_ENV, seal
from jobsync.render.colour import paint_plan
from jobsync.render.json import render_apply_json, render_plan_json
from jobsync.render.markdown import render_plan_markdown
from jobsync.render.text import apply_line, render_apply_markdown, render_apply_summary, render_plan_text
from jobsync.state import Lock

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
    fmt: TextJsonFormatOpt = Format.TEXT,
) -> None:
    """Check every definition for the target (syntax, schema, names, variables, remapping, scope,
    references) and report all problems.

    With --format json, stdout gets one document: {"ok": ..., "diagnostics": [{"severity", "message",
    "file", "line", "pointer", "object", "hint"}, ...]}, on success and on failure alike.
    """
    output = Output()
    with error_handler(output, fmt):
        require_format('validate', fmt, TEXT_JSON, output)
        env = read_env()
        resolver = resolver_for(output, env, secrets_dir) if check_secrets else None
        validated = flow.validate(find_root(repo), ref, target, env, online=online, resolver=resolver)
        output.err(diagnostics_text(validated.warnings))
        loaded = validated.loaded
        if validated.secret_problems:
            output.err(''.join(f'error: {p}\n' for p in validated.secret_problems))
            raise JobsyncError(
                f'{len(validated.secret_problems)} secret reference(s) do not resolve for target '
                f'{loaded.target.name}', hint='set the environment variables or secret files named above')
        if fmt is Format.JSON:
            output.out(json.dumps({
                'ok': True, 'target': loaded.target.name, 'definitions': len(loaded.result.desired),
                'secrets_checked': check_secrets, 'diagnostics': diagnostics_json(validated.warnings),
            }, indent=2, ensure_ascii=False) + '\n')
            return
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
SameNameOpt = Annotated[SameName | None, typer.Option(
    '--same-name', help='Defined objects that already exist in the workspace: overwrite makes them match git, '
                        "skip leaves them and creates only what is missing (default: the target's same_name, "
                        'else overwrite).', case_sensitive=False,
)]
ForceOpt = Annotated[bool, typer.Option(
    '--force', help='Let --prune delete objects other workspace objects still use (refused by default, naming '
                    'the users), as `jobsync delete --force`.',
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
    same_name: SameNameOpt = None,
    force: ForceOpt = False,
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
    with error_handler(output, fmt):
        require_format('plan', fmt, ALL_FORMATS, output)
        env = read_env()
        key = fingerprint_key_from_env(env)
        resolver = resolver_for(output, env, secrets_dir) if key else None
        choices = flow.Choices(refresh_secrets=refresh_secrets, take=take, prune=prune,
                               allow_mass_delete=allow_mass_delete, same_name=same_name, force=force)
        planned = flow.plan(find_root(repo), ref, target, env, choices=choices, base=base, resolver=resolver,
                            fingerprint_key=key)
        output.err(diagnostics_text(planned.warnings))
        the_plan = planned.plan
        if out is not None:
            out.write_text(seal(output.redactor.scrub(plan_to_json(the_plan)), env.get(PLAN_KEY_ENV)),
                           encoding='utf-8')
        output.out(_render_plan(the_plan, fmt, artifact_url or (str(out) if out is not None else None)),
                   _paint(fmt, env))
        check_no_conflicts(the_plan, planning=True)
    if detailed_exitcode and the_plan.has_changes:
        raise typer.Exit(EXIT_CHANGES)


def _paint(fmt: Format, env: Mapping[str, str]) -> Callable[[str], str] | None:
    """Colour for the text plan when stdout is a terminal that wants it (never JSON or markdown)."""
    return paint_plan if fmt is Format.TEXT and wants_colour(sys.stdout, env) else None


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
    same_name: SameNameOpt = None,
    force: ForceOpt = False,
    lock_timeout: Annotated[str, typer.Option(
        '--lock-timeout', help='How long to wait for the lock on the target if another apply holds it '
                               '(90, 90s, 5m).')] = '0s',
    cdm_wait: Annotated[str | None, typer.Option(
        '--cdm-wait', help='A CDM job apply would overwrite is running (copying data): wait this long for its '
                           'run to end (90s, 10m), then refuse it. Default: the target\'s cdm_wait_seconds (0).',
        show_default=False)] = None,
    stop_running_cdm_jobs: Annotated[bool, typer.Option(
        '--stop-running-cdm-jobs', help='Stop the run of a CDM job apply overwrites instead of refusing it; '
                                        'the job is not started again.')] = False,
) -> None:
    """Plan, show the plan, confirm, then import the changes in batches in dependency order.

    Given PLAN_FILE, apply executes exactly that saved plan (no confirmation: it was reviewed).
    Apply holds a lease lock on the target while it runs and records what it applied (the state).
    """
    output = Output()
    with error_handler(output, fmt):
        require_format('apply', fmt, ALL_FORMATS, output)
        timeout = parse_duration(lock_timeout, option='--lock-timeout')
        cdm_runs = flow.CdmRuns(None if cdm_wait is None else parse_duration(cdm_wait, option='--cdm-wait'),
                                stop_running_cdm_jobs)
        env = read_env()
        resolver = resolver_for(output, env, secrets_dir)
        key = fingerprint_key_from_env(env)
        owner, run_url = lock_owner_from_env(env)

        def waiting(holder: Lock) -> None:
            output.err(f'Target {holder.target} is locked by {holder.describe()}; waiting up to {timeout:g}s.\n')

        # Text: each object's result line as it ends (then only the summary); else progress on stderr.
        # Apply says itself how many objects an interrupt left written (cli/__init__.py).
        progress = Reporter(output, env, what='written', line=apply_line if fmt is Format.TEXT else None,
                            interrupted=False)
        locking = flow.Locking(owner, run_url, timeout, waiting)
        if plan_file is not None:
            fixed = [name for name, given in (('--ref', ref is not None), ('--take', take is not None),
                                              ('--prune', prune), ('--allow-mass-delete', allow_mass_delete),
                                              ('--refresh-secrets', refresh_secrets),
                                              ('--same-name', same_name is not None), ('--force', force)) if given]
            if fixed:
                raise UsageError(f'{", ".join(fixed)} cannot be combined with a saved plan: the plan fixed them',
                                 hint='pass them to `jobsync plan --out`, or apply without a plan file')
            saved = _read_plan(plan_file, env)
            progress.expect(len(saved.writes))
            with progress:
                run = flow.apply_saved(saved, target, env, root=Path.cwd(), repo=repo,
                                       resolver=resolver, locking=locking, fingerprint_key=key, on_event=progress,
                                       cdm_runs=cdm_runs)
            if not run.plan.writes and fmt is not Format.JSON:
                output.out('Nothing to apply: the plan has no changes.\n')
                return
        else:
            def confirm(the_plan: Plan) -> None:
                if fmt is not Format.JSON:
                    output.out(_render_plan(the_plan, fmt, None), _paint(fmt, env))
                check_no_conflicts(the_plan)
                if the_plan.writes:
                    _confirm(auto_approve, output)
                progress.expect(len(the_plan.writes))

            choices = flow.Choices(refresh_secrets=refresh_secrets, take=take, prune=prune,
                                   allow_mass_delete=allow_mass_delete, same_name=same_name, force=force)
            with progress:
                run = flow.apply(find_root(repo), ref, target, env, resolver=resolver, locking=locking,
                                 confirm=confirm, choices=choices, fingerprint_key=key, on_event=progress,
                                 on_warnings=lambda warnings: output.err(diagnostics_text(warnings)),
                                 cdm_runs=cdm_runs)
            if not run.plan.writes and fmt is not Format.JSON:
                return
        result = run.applied.result
        output.out(progress.unsaid(result.outcomes) + _render_apply(result, fmt, run.spent), _paint(fmt, env))
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)


def _render_apply(result: ApplyResult, fmt: Format, spent: flow.Spent | None = None) -> str:
    if fmt is Format.JSON:
        return render_apply_json(result, spent)
    if fmt is Format.MARKDOWN:
        return render_apply_markdown(result)
    return render_apply_summary(result, spent)  # the object lines: as each object ended (Reporter)


def _read_plan(path: Path, env: Mapping[str, str]) -> Plan:
    try:
        text = path.read_text(encoding='utf-8')
    except OSError as err:
        raise UsageError(f'cannot read the plan file {path}: {err.strerror}',
                         hint='pass the file written by `jobsync plan --out`') from None
    return commands.read_plan(text, where=str(path), key=env.get(PLAN_KEY_ENV))


def _confirm(auto_approve: bool, output: Output) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise JobsyncError('refusing to apply without confirmation: there is no terminal to ask on',
                           hint='review the plan above, then re-run with --auto-approve (as CI does)')
    if not typer.confirm('Apply these changes?', default=False):
        output.err('Apply cancelled; nothing was written.\n')
        raise typer.Exit(EXIT_ERROR)


