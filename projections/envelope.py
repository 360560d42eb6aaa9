"""The envelope of a published event: flat string fields, as Redis stream entries hold.

Schema version 1 (docs/events.md, docs/schemas/). Consumers ignore fields and event types they
do not know, so a new field or a new event type arrives without a version change; a change to
the meaning or type of an existing field bumps the version.
"""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field

from service.domain.events import EVENT_NAMES, LoggedEvent
from service.domain.state import rendered_object

SCHEMA_VERSION = "1"


def envelope(event: LoggedEvent) -> dict[str, bytes]:
    """The entry's fields, encoded once: the relay writes each entry to two streams, and the
    Redis client would otherwise encode every text field again for each."""
    occurred = event.recorded_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    fields = {
        "event_id": str(event.event_id),
        "type": event.type,
        "event": EVENT_NAMES.get(event.type, ""),
        "thread_id": event.thread_id,
        "version": str(event.version),
        "position": event.position,
        "occurred_at": occurred,
        "project": str(event.metadata.get("project", "")),
        "schema": SCHEMA_VERSION,
    }
    encoded = {name: value.encode() for name, value in fields.items()}
    encoded["data"] = orjson.dumps(rendered_object(event))
    return encoded


class StreamEvent(BaseModel):
    """An event as a subscriber reads it from a stream entry, typed.

    Unknown fields are ignored, so this consumer keeps working when the envelope grows.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str
    event_id: UUID
    type: str
    event: str
    thread_id: str
    version: int
    position: str
    occurred_at: datetime
    project: str
    schema_version: str = Field(alias="schema")
    data: dict[str, Any]

    @classmethod
    def from_entry(cls, entry_id: str | bytes, fields: dict[Any, Any]) -> "StreamEvent":
        text = {as_text(k): as_text(v) for k, v in fields.items()}
        return cls.model_validate(
            {**text, "id": as_text(entry_id), "data": orjson.loads(text["data"])}
        )


def as_text(value: str | bytes) -> str:
    """A Redis reply as text, whether the client decodes responses or not."""
    return value.decode() if isinstance(value, bytes) else value
