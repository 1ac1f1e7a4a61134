"""An example (or two) per command, shown at the end of its `--help`.

Kept here, apart from the docstrings, so every command has one and the names are the example
repo's (examples/repo): the help can be tried as written there.
"""

from __future__ import annotations

import typer

EXAMPLES: dict[str, list[str]] = {
    'init': ['jobsync init', 'jobsync init --from-target prod'],
    'validate': ['jobsync validate', 'jobsync validate --target prod --check-secrets --format json'],
    'plan': ['jobsync plan', 'jobsync plan --target prod --out plan.json --format markdown > plan.md'],
    'apply': ['jobsync apply --auto-approve', 'jobsync apply plan.json --target prod --lock-timeout 10m'],
    'export': ['jobsync export --all', 'jobsync export --name job_batch --name script/merge_orders --dry-run'],
    'import-bundle': ['jobsync import-bundle ~/Downloads/jobs.zip'],
    'drift': ['jobsync drift --target prod --format markdown > drift.md'],
    'run': ['jobsync run job_batch --once --wait', 'jobsync run --group sales --wait'],
    'stop': ['jobsync stop job_batch'],
    'delete': ['jobsync delete job/spark_daily job/hive_dwd_daily script/cleanup_tmp'],
    'groups': ['jobsync groups', 'jobsync groups delete master_data'],
    'force-unlock': ['jobsync force-unlock LOCK_ID --target prod'],
    'versions': ['jobsync versions mysql_to_dws_daily', 'jobsync versions doc1 --version 1 --format json'],
    'state': ['jobsync state list --target prod', 'jobsync state show job/job_batch',
              'jobsync state rm script/cleanup_tmp', 'jobsync state reset --target prod'],
    'emulator': ['jobsync emulator --port 8443 --ak AKEXAMPLE --sk SKEXAMPLE'],
}


def epilog(name: str) -> str | None:
    lines = EXAMPLES.get(name)
    # `\b`: click keeps the paragraph as written (no reflow of command lines).
    return '\b\nExamples:\n' + ''.join(f'  {line}\n' for line in lines) if lines else None


def attach(app: typer.Typer) -> None:
    """Give every registered command (and command group) its examples."""
    for command in app.registered_commands:
        name = command.name or (command.callback.__name__.replace('_', '-') if command.callback else '')
        command.epilog = command.epilog or epilog(name)
    for group in app.registered_groups:
        if group.name:
            group.epilog = group.epilog or epilog(group.name)
