"""The progress of apply and the console operations: a live counter on a terminal, one line per
object without one, each object's result said once, colour only for a terminal that wants it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from conftest import EXAMPLE_SECRETS, run_jobsync
from plan_samples import sample_plan
from rich.console import Console

from jobsync.cli.common import Output
from jobsync.cli.progress import Reporter
from jobsync.cli.terminal import live_console, wants_colour
from jobsync.events import Event, EventKind, Outcome, Status
from jobsync.model import ObjectKey
from jobsync.render.colour import paint_plan
from jobsync.render.text import apply_line, render_plan_text

KEYS = [ObjectKey('script', 'load'), ObjectKey('job', 'daily'), ObjectKey('job', 'hourly')]
ANSI = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]')


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _terminal() -> tuple[Console, io.StringIO]:
    screen = io.StringIO()
    return Console(file=screen, force_terminal=True, width=100, color_system=None), screen


def test_live_counter_moves_per_object_as_each_is_written(capsys: pytest.CaptureFixture[str]) -> None:
    console, screen = _terminal()
    seen: list[str] = []
    with Reporter(Output(), {}, what='written', line=apply_line, console=console) as progress:
        progress.expect(len(KEYS))
        progress(Event(EventKind.BATCH, batch=(1, 1), message='3 object(s), script'))
        for n, key in enumerate(KEYS, 1):
            progress(Event(EventKind.WRITTEN, key, message='written'))
            drawn = ANSI.sub('', screen.getvalue())
            assert f'{n}/3' in drawn and str(key) in drawn  # the display moved for this object
            seen.append(drawn)
        progress(Event(EventKind.NOTE, KEYS[1], message='restarted'))
        for key in KEYS:  # the package's outcomes, after it: nothing new to say
            progress(Event(EventKind.OUTCOME, key, outcome=Outcome(key, 'create', Status.APPLIED)))
    out = capsys.readouterr()
    # each object's result once, on stdout, as it was written; the display only on its terminal
    assert out.out == ''.join(f'applied  {k}\n' for k in KEYS)
    assert out.err == ''
    assert 'job/daily: restarted' in ANSI.sub('', screen.getvalue())


def test_without_a_terminal_one_line_per_object_and_nothing_twice(example_repo: Path) -> None:
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert applied.code == 0, applied
    results = [line for line in applied.stdout.splitlines() if line.startswith('applied  ')]
    assert len(results) == 22 and len(set(results)) == 22
    assert applied.stdout.splitlines()[-2:][0] == 'Apply: 22 applied, 0 failed, 0 skipped.'  # then API calls
    for line in results:  # not logged again as progress
        key = line.split()[1]
        assert f'{key}:' not in applied.stderr, applied.stderr
    assert 'batch 1/' in applied.stderr
    assert '\x1b' not in applied.stdout + applied.stderr


def test_json_apply_keeps_progress_on_stderr_and_one_document_on_stdout(example_repo: Path) -> None:
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', '--format', 'json',
                          env=EXAMPLE_SECRETS)
    assert applied.code == 0, applied
    assert applied.stdout.lstrip().startswith('{') and 'applied  ' not in applied.stdout
    assert applied.stderr.count(': applied') == 22


def test_a_failed_object_after_its_write_is_said_again_with_why(capsys: pytest.CaptureFixture[str]) -> None:
    with Reporter(Output(), {}, what='written', line=apply_line, console=None) as progress:
        progress(Event(EventKind.WRITTEN, KEYS[1], message='written'))
        progress(Event(EventKind.OUTCOME, KEYS[1], outcome=Outcome(
            KEYS[1], 'update', Status.FAILED, 'written, but restarting its schedule failed: DLF.0100')))
    assert capsys.readouterr().out == ('applied  job/daily\n'
                                       'failed   job/daily: written, but restarting its schedule failed: DLF.0100\n')


def test_an_interrupt_says_how_many_objects_were_done(capsys: pytest.CaptureFixture[str]) -> None:
    console, _ = _terminal()
    with pytest.raises(KeyboardInterrupt), \
            Reporter(Output(), {}, what='deleted', console=console) as progress:
        progress.expect(3)
        progress(Event(EventKind.OUTCOME, KEYS[0], outcome=Outcome(KEYS[0], 'delete', Status.APPLIED)))
        raise KeyboardInterrupt
    assert 'Interrupted after 1 of 3 object(s) deleted (1 ok)' in capsys.readouterr().err


def test_names_and_secrets_on_the_display_are_escaped_and_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('HUAWEICLOUD_SDK_SK', 'canary-sk-0123456789')
    console, screen = _terminal()
    hostile = ObjectKey('job', 'x\x1b[2Jcanary-sk-0123456789')
    with Reporter(Output(), {}, what='written', console=console) as progress:
        progress(Event(EventKind.WRITTEN, hostile, message='written'))
        progress(Event(EventKind.NOTE, hostile, message='[bold]not markup[/bold]'))
    drawn = screen.getvalue()
    assert 'canary-sk' not in drawn and '\x1b[2J' not in drawn and '[bold]not markup[/bold]' in drawn


def test_colour_only_for_a_terminal_without_no_color() -> None:
    assert wants_colour(_Tty(), {})
    assert not wants_colour(_Tty(), {'NO_COLOR': '1'})
    assert not wants_colour(_Tty(), {'TERM': 'dumb'})
    assert not wants_colour(io.StringIO(), {})  # a pipe or file
    assert live_console(io.StringIO(), {}) is None


def test_painting_only_adds_colour_codes() -> None:
    plain = render_plan_text(sample_plan())
    painted = paint_plan(plain)
    assert ANSI.sub('', painted) == plain
    assert '\x1b[32m+ ' in painted and '\x1b[33m~ ' in painted and '\x1b[1mPlan:' in painted


def test_plan_through_the_cli_is_plain_when_piped(example_repo: Path) -> None:
    planned = run_jobsync('plan', '--repo', str(example_repo))
    assert planned.code == 0 and '+ ' in planned.stdout and '\x1b' not in planned.stdout


def test_export_and_drift_show_their_steps_on_a_terminal_only(capsys: pytest.CaptureFixture[str]) -> None:
    console, screen = _terminal()
    step = Event(EventKind.STATUS, message='reading 22 object(s) of local:x.db')
    with Reporter(Output(), {}, what='drift', console=console, steps=True, interrupted=False) as progress:
        progress(step)
        assert 'reading 22 object(s) of local:x.db' in ANSI.sub('', screen.getvalue())
    with Reporter(Output(), {}, what='drift', console=None, steps=True, interrupted=False) as progress:
        progress(step)  # a log gets the result alone
    assert capsys.readouterr() == ('', '')


def test_drift_and_export_through_the_cli_log_only_their_result(example_repo: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    drifted = run_jobsync('drift', '--repo', str(example_repo))
    exported = run_jobsync('export', '--all', '--dry-run', '--repo', str(example_repo))
    assert drifted.code == 0 and exported.code == 0, (drifted, exported)
    assert 'reading' not in drifted.stderr + exported.stderr and '\x1b' not in drifted.stdout + exported.stdout


def test_no_color_keeps_the_live_display_without_colour() -> None:
    screen = _Tty()
    console = live_console(screen, {'NO_COLOR': '1'})
    assert console is not None
    with Reporter(Output(), {}, what='written', console=console) as progress:
        progress.expect(1)
        progress(Event(EventKind.WRITTEN, KEYS[0], message='written'))
    drawn = screen.getvalue()
    assert '1/1' in drawn and not re.search(r'\x1b\[[0-9;]*3[0-9]m', drawn)  # no foreground colour
