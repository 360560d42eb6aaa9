"""The envelope of a published event: flat string fields, as Redis stream entries hold.

Schema version 2 (docs/events.md, docs/schemas/): every entry names its stream by `stream_id`
and `category`; a thread's entries also carry `thread_id`, as schema 1's did, so subscribers
written for schema 1 keep working. Consumers ignore fields and event types they do not know,
so a new field or a new event type arrives without a version change; a change to the meaning
or type of an existing field bumps the version.
"""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator

from eventlog.events import LoggedEvent
from eventlog.registry import event_type

SCHEMA_VERSION = "2"
# Schema 1 knew only threads: its entries name the stream by thread_id alone.
THREAD_CATEGORY = "thread"


def envelope(event: LoggedEvent) -> dict[str, bytes]:
    """The entry's fields, encoded once: the relay writes each entry to two streams, and the
    Redis client would otherwise encode every text field again for each. Only for events of
    a registered type (registry.known)."""
    kind = event_type(event.type)
    if kind is None:
        raise ValueError(f"no resource registered the event type {event.type!r}")
    occurred = event.recorded_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    fields = {
        "event_id": str(event.event_id),
        "type": event.type,
        "event": kind.published_as,
        "stream_id": event.stream_id,
        "category": event.category,
        "version": str(event.version),
        "position": event.position,
        "occurred_at": occurred,
        "project": event.project,
        "schema": SCHEMA_VERSION,
    }
    if event.category == THREAD_CATEGORY:
        fields["thread_id"] = event.stream_id
    encoded = {name: value.encode() for name, value in fields.items()}
    encoded["data"] = orjson.dumps(kind.render(event))
    return encoded


class StreamEvent(BaseModel):
    """An event as a subscriber reads it from a stream entry, typed.

    Unknown fields are ignored, so this consumer keeps working when the envelope grows; an
    entry of schema 1 (a thread's, without stream_id and category) reads as schema 2's.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str
    event_id: UUID
    type: str
    event: str
    stream_id: str
    category: str
    thread_id: str | None = None
    version: int
    position: str
    occurred_at: datetime
    project: str
    schema_version: str = Field(alias="schema")
    data: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _schema_1(cls, fields: Any) -> Any:
        if isinstance(fields, dict) and "stream_id" not in fields and "thread_id" in fields:
            return {**fields, "stream_id": fields["thread_id"], "category": THREAD_CATEGORY}
        return fields

    @classmethod
    def from_entry(cls, entry_id: str | bytes, fields: dict[Any, Any]) -> "StreamEvent":
        text = {as_text(k): as_text(v) for k, v in fields.items()}
        return cls.model_validate(
            {**text, "id": as_text(entry_id), "data": orjson.loads(text["data"])}
        )


def as_text(value: str | bytes) -> str:
    """A Redis reply as text, whether the client decodes responses or not."""
    return value.decode() if isinstance(value, bytes) else value
