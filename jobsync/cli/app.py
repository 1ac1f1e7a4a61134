"""The typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name='jobsync',
    help='GitOps for Huawei Cloud DataArts Studio: validate, plan and apply Factory jobs, scripts, '
         'resources, data connections and CDM links and jobs kept in git.',
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
