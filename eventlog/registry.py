"""What the kernel knows of resources: their event types and their projections.

A resource (service/threads/, ...) registers once, at import of service/resources.py, the one
place that lists them. The projector, `rebuild` and `verify` iterate the projections; the
relay and the backfills render events through their types. An event whose type no resource
registered (written by a newer release, during a rolling deploy) is skipped and counted where
it is met, never a reason to stop: the log goes on being consumed around it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .events import LoggedEvent
from .metrics import UNKNOWN_EVENTS
from .upcasting import Upcaster, add_upcaster


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    # The OpenAI-style name subscribers see ("thread.message.created").
    published_as: str
    # The object the event describes, as the API renders it (what subscribers get as data).
    render: Callable[[LoggedEvent], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Projection:
    """One view: the event types it reads, how a batch of them folds into the changes to
    write (JSON), and the SQL function that writes them, `function(changes jsonb)`. The
    function writes only its own table, so projections apply in any order.

    `versions_of`: the category whose streams' projected version this view keeps, which
    readers wait on for read-your-writes. It is handed every event of that category, of a
    type this release does not know as well, so that such an event still counts as
    projected: the fold moves the version and changes nothing else."""

    view: str
    function: str
    event_types: frozenset[str]
    fold: Callable[[list[LoggedEvent]], Any]
    versions_of: str | None = None

    def reads(self, event: LoggedEvent) -> bool:
        if event.type in self.event_types:
            return True
        return event.category == self.versions_of and event.type not in _EVENT_TYPES


@dataclass(frozen=True, slots=True)
class Resource:
    category: str
    event_types: tuple[EventType, ...]
    projections: tuple[Projection, ...]
    upcasters: dict[str, tuple[Upcaster, ...]] = field(default_factory=dict)


_EVENT_TYPES: dict[str, EventType] = {}
_PROJECTIONS: dict[str, Projection] = {}


def register(resource: Resource) -> None:
    """Makes a resource's events and views known; registering the same one again is a no-op.
    A resource that claims an event type or a view another one has is refused whole."""
    for event_type in resource.event_types:
        if _EVENT_TYPES.get(event_type.name, event_type) is not event_type:
            raise ValueError(f"event type {event_type.name!r} is registered twice")
    for projection in resource.projections:
        if _PROJECTIONS.get(projection.view, projection) is not projection:
            raise ValueError(f"view {projection.view!r} is registered twice")
    for event_type in resource.event_types:
        _EVENT_TYPES[event_type.name] = event_type
    for projection in resource.projections:
        _PROJECTIONS[projection.view] = projection
    for name, steps in resource.upcasters.items():
        for step in steps:
            add_upcaster(name, step)


def event_type(name: str) -> EventType | None:
    return _EVENT_TYPES.get(name)


def projections() -> tuple[Projection, ...]:
    """Every registered projection, in the order they registered (a stable statement text).
    None registered is a mistake of the process's set-up, never a state to project in: the
    checkpoint would move past events no view received."""
    if not _PROJECTIONS:
        raise RuntimeError("no resource is registered: import service.resources first")
    return tuple(_PROJECTIONS.values())


def views() -> tuple[str, ...]:
    return tuple(p.view for p in projections())


def registered(events: Iterable[LoggedEvent], consumer: str) -> list[LoggedEvent]:
    """The events of a registered type. The others, written by a newer release, are counted
    for `consumer` in threadlog_unknown_events_total and left out: whoever meets them goes on
    around them."""
    ours, unknown = known(events)
    for event in unknown:
        UNKNOWN_EVENTS.labels(consumer, event.type).inc()
    return ours


def known(events: Iterable[LoggedEvent]) -> tuple[list[LoggedEvent], list[LoggedEvent]]:
    """The events whose type is registered, and those whose type is not."""
    ours: list[LoggedEvent] = []
    unknown: list[LoggedEvent] = []
    for event in events:
        (ours if event.type in _EVENT_TYPES else unknown).append(event)
    return ours, unknown
