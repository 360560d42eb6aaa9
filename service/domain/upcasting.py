"""Upcasters: older shapes of event data, brought to today's shape as the log is read.

The log is never rewritten. When an event's data shape changes, an upcaster here turns the old
shape into the new one on the way out of the log, so the projector, the relay, rebuilds and
backfills only ever see the current shape.

The one change so far: MessageCreated first carried a v1-style `file_ids` list (Azure's
2024-02-15-preview shape, which is how the first threads were written) before `attachments`
replaced it. Such an event reads as one whose files are attachments with no tools.
"""

from collections.abc import Callable
from typing import Any

from .event_types import MESSAGE_CREATED

Data = dict[str, Any]


def _message_file_ids_to_attachments(data: Data) -> Data:
    if "attachments" in data or "file_ids" not in data:
        return data
    upcast = {k: v for k, v in data.items() if k != "file_ids"}
    upcast["attachments"] = [{"file_id": f, "tools": []} for f in data["file_ids"]]
    return upcast


UPCASTERS: dict[str, list[Callable[[Data], Data]]] = {
    MESSAGE_CREATED: [_message_file_ids_to_attachments],
}


def upcast(event_type: str, data: Data) -> Data:
    for step in UPCASTERS.get(event_type, ()):
        data = step(data)
    return data
