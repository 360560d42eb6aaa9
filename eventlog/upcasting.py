"""Upcasters: older shapes of event data, brought to today's shape as the log is read.

The log is never rewritten. When an event's data shape changes, its resource registers an
upcaster for that event type (registry.register), and the old shape turns into the new one on
the way out of the log, so the projector, the relay, rebuilds and backfills only ever see the
current shape.
"""

from collections.abc import Callable
from typing import Any

Data = dict[str, Any]
Upcaster = Callable[[Data], Data]

# Each event type's steps, oldest shape first; filled by the registry.
UPCASTERS: dict[str, list[Upcaster]] = {}


def add_upcaster(event_type: str, step: Upcaster) -> None:
    steps = UPCASTERS.setdefault(event_type, [])
    if step not in steps:
        steps.append(step)


def upcast(event_type: str, data: Data) -> Data:
    for step in UPCASTERS.get(event_type, ()):
        data = step(data)
    return data
