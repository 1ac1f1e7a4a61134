"""The typer application every command module registers on."""

from __future__ import annotations

import typer

HELP = '''GitOps for Huawei Cloud DataArts Studio: validate, plan and apply Factory jobs, scripts, resources,
data connections and CDM links and jobs kept in git.

\b
Start:  jobsync init                  (jobsync.yaml with a local: target)
        jobsync validate && jobsync plan
        jobsync COMMAND -h            (each command's options and an example)
'''

app = typer.Typer(
    name='jobsync',
    help=HELP,
    no_args_is_help=True,
    # `jobsync --install-completion` / `--show-completion` (bash, zsh, fish, PowerShell).
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain click help: paragraphs reflowed to the terminal (docstrings stay readable at 80
    # columns), `[env: X]` notes printed as written (rich markup would eat the brackets), and
    # `\b` paragraphs (the examples) kept as written.
    rich_markup_mode=None,
    context_settings={'help_option_names': ['-h', '--help'], 'max_content_width': 100},
)


def _version(value: bool) -> None:
    if value:
        from jobsync import __version__

        typer.echo(f'jobsync {__version__}')
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, '--version', help='Show the version and exit.', callback=_version,
                                 is_eager=True),
) -> None:
    """The options before any command."""
