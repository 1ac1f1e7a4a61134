"""The habits of a CLI: --version, -h as --help, shell completion, readable help with examples."""

from __future__ import annotations

import pytest
from cli_runner import run_jobsync

from jobsync import __version__
from jobsync.cli.examples import EXAMPLES


def test_version() -> None:
    result = run_jobsync('--version')
    assert result.code == 0 and result.stdout == f'jobsync {__version__}\n'


@pytest.mark.parametrize('command', sorted(set(EXAMPLES) - {'init'}))
def test_every_command_has_short_help_with_an_example(command: str) -> None:
    result = run_jobsync(command, '-h', env={'COLUMNS': '80'})
    assert result.code == 0, result
    assert 'Examples:' in result.stdout and EXAMPLES[command][0] in result.stdout
    assert '<bool>' not in result.stdout  # bool options are flags
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_env_notes_are_kept_and_bool_options_are_flags() -> None:
    text = run_jobsync('plan', '--help', env={'COLUMNS': '100'}).stdout
    assert '${secret:file:...} references [env: JOBSYNC_SECRETS_DIR]' in ' '.join(text.split())
    assert '--prune ' in text and '--prune <' not in text


def test_shell_completion_is_offered() -> None:
    text = run_jobsync('--help').stdout
    assert '--install-completion' in text and '--show-completion' in text
