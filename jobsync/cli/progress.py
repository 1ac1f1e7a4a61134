"""The progress of a long command (apply, run, stop, delete, export, drift), from its events.

On a terminal (stderr): a live counter that moves per object as each is written or ends, with
the step in hand; it is erased at the end, so the log keeps only what follows. Without one: one
line per event. Either way each object's result is said ONCE: with `line` (the text format), the
object's result line goes to stdout as the object ends and the command prints only the summary
after; without (JSON, markdown: stdout holds one document) it goes to stderr as progress.

Every byte goes through the command's `Output` redactor and the escaper, also what rich draws.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from jobsync.cli.common import Output
from jobsync.cli.terminal import live_console
from jobsync.events import Event, EventKind, Outcome, Status
from jobsync.model import ObjectKey
from jobsync.render import escape
from jobsync.render.progress import event_line, render_event_text

if TYPE_CHECKING:  # rich is imported when a live display starts: a plan in CI never draws one
    from rich.console import Console
    from rich.progress import Progress, TaskID


class Reporter:
    """An `OnEvent` for one command: use as a context manager around the work.

    `line` words an object's result for stdout (the text format); `console` is the live display's
    console (default: stderr's, when it is a terminal; tests pass a forced terminal); `interrupted`
    says, on Ctrl-C, how many objects were done (apply says it itself, with the state it recorded).
    """

    def __init__(self, output: Output, env: Mapping[str, str], *, what: str,
                 line: Callable[[Outcome], str] | None = None, console: Console | None = None,
                 interrupted: bool = True, steps: bool = False) -> None:
        self.output, self.what, self.line, self.say_interrupted = output, what, line, interrupted
        # `steps`: the work reports steps, not objects (export, drift: listing, reading, writing).
        # They show on a terminal only, animated while a step runs; a log gets the result alone.
        self.steps = steps
        self.console = console if console is not None else live_console(sys.stderr, env)
        self.total: int | None = None
        self.shown: set[ObjectKey] = set()  # objects whose result line was printed
        self.done: set[ObjectKey] = set()  # objects counted on the display
        self.ok = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._stopped = False

    def unsaid(self, outcomes: tuple[Outcome, ...]) -> str:
        """The result lines of the objects no event reported (the text format prints them before
        its summary), so every object is said once whichever way its outcome came."""
        return ''.join(self.line(o) for o in outcomes if o.key not in self.shown) if self.line is not None else ''

    # --- the display -------------------------------------------------------------------------

    def expect(self, total: int) -> None:
        """How many objects the work will touch (the display shows N/M)."""
        self.total = total
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total)
            self._progress.refresh()

    def __enter__(self) -> Reporter:
        return self

    def _start(self) -> None:
        """The display starts with the first event: after the plan was shown and confirmed."""
        if self.console is None or self._progress is not None or self._stopped:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(), TextColumn(self.what, markup=False), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn('{task.description}', markup=False),
            console=self.console, transient=True, auto_refresh=self.steps,
            # stdout on the same terminal is printed above the display, never through it
            redirect_stdout=_is_tty(sys.stdout), redirect_stderr=False)
        self._progress.start()
        self._task = self._progress.add_task('', total=self.total)
        self._progress.refresh()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stopped = True
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        if kind is not None and issubclass(kind, KeyboardInterrupt) and self.say_interrupted:
            of = f' of {self.total}' if self.total is not None else ''
            self.output.err(f'Interrupted after {len(self.done)}{of} object(s) {self.what} '
                            f'({self.ok} ok); the rest were not done.\n')

    # --- events --------------------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        self._start()
        if event.kind is EventKind.WRITTEN and event.key is not None:
            self._count(event.key, ok=True)
            self._result(Outcome(event.key, '', Status.APPLIED), event)
        elif event.kind is EventKind.OUTCOME and event.outcome is not None:
            outcome = event.outcome
            if outcome.key not in self.done:
                self._count(outcome.key, ok=outcome.ok)
            elif not outcome.ok:
                self.ok -= 1  # written, then failed after (restarting its schedule)
            if outcome.key not in self.shown or outcome.message or not outcome.ok:
                self._result(outcome, event)
        elif self._progress is None and self.steps:
            return
        elif event.kind is EventKind.NOTE or self._progress is None:
            self._note(event)
        else:  # a batch starts or an object's state changed: the display's step
            self._step(event_line(event))

    def _count(self, key: ObjectKey, *, ok: bool) -> None:
        self.done.add(key)
        self.ok += ok
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=len(self.done), description=self._clean(str(key)))
            self._progress.refresh()

    def _result(self, outcome: Outcome, event: Event) -> None:
        self.shown.add(outcome.key)
        if self.line is not None:
            self.output.out(self.line(outcome))
        elif self._progress is None:
            self.output.err(render_event_text(Event(EventKind.OUTCOME, outcome.key, outcome=outcome)
                                              if event.kind is EventKind.WRITTEN else event))

    def _note(self, event: Event) -> None:
        if self._progress is None:
            self.output.err(render_event_text(event))
        else:
            self._progress.console.print(self._clean(f'  {event_line(event)}'), markup=False, highlight=False,
                                         emoji=False, soft_wrap=True)

    def _step(self, text: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=self._clean(text))
            self._progress.refresh()

    def _clean(self, text: str) -> str:
        return escape.line(self.output.redactor.scrub(text))


def _is_tty(stream: object) -> bool:
    isatty = getattr(stream, 'isatty', None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:
        return False
