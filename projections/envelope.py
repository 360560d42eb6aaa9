"""The envelope of a published event: flat string fields, as Redis stream entries hold.

Schema version 1. Consumers must ignore fields they do not know; a new field or event type is
added without changing the version, a change to an existing field's meaning bumps it.
"""

from datetime import UTC

import orjson

from service.domain.events import EVENT_NAMES, LoggedEvent
from service.domain.state import rendered_object

SCHEMA_VERSION = "1"


def envelope(event: LoggedEvent) -> dict[str, str]:
    occurred = event.recorded_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return {
        "event_id": str(event.event_id),
        "type": event.type,
        "event": EVENT_NAMES.get(event.type, ""),
        "thread_id": event.thread_id,
        "version": str(event.version),
        "position": event.position,
        "occurred_at": occurred,
        "project": str(event.metadata.get("project", "")),
        "schema": SCHEMA_VERSION,
        "data": orjson.dumps(rendered_object(event)).decode(),
    }
