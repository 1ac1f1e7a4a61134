"""Progress lines for apply and the console operations, one per event. Pure."""

from __future__ import annotations

from jobsync.events import Event, EventKind
from jobsync.render import escape


def event_line(event: Event) -> str:
    """`batch 1/3: 20 object(s), job`, `job/x: stopped before overwriting it`, `job/x: applied`, ..."""
    if event.kind is EventKind.BATCH and event.batch is not None:
        number, of = event.batch
        text = f'batch {number}/{of}: {event.message}'
    elif event.kind is EventKind.OUTCOME and event.outcome is not None:
        outcome = event.outcome
        text = f'{outcome.key}: {outcome.state or outcome.status.value}' + (
            f' ({outcome.message})' if outcome.message else '')
    else:
        text = f'{event.key}: {event.message}' if event.key is not None else event.message
    return escape.line(text)


def render_event_text(event: Event) -> str:
    """The line the CLI writes to stderr while the work runs (indented under the plan)."""
    return f'  {event_line(event)}\n'
