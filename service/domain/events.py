"""Events of a thread's life, as stored in the log.

Every event's ``data`` carries the whole state of the object it describes after the change, in
the shape the API renders (content parts already in their response form). A replay never needs
the request that caused it, and the relay can publish the full object from the event alone.
``created_at`` is decided once, when the first event is made.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from .event_types import (  # noqa: F401  (re-exported: the event vocabulary lives here)
    EVENT_NAMES,
    MESSAGE_CREATED,
    MESSAGE_DELETED,
    MESSAGE_MODIFIED,
    THREAD_CREATED,
    THREAD_DELETED,
    THREAD_MODIFIED,
)
from .requests import Attachment, CreateMessage, TextPart, ToolResources
from .upcasting import upcast


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended; its id is given at append time."""

    type: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event as read back from the log, in commit order."""

    global_position: int
    transaction_id: int
    thread_id: str
    version: int
    event_id: UUID
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime

    @property
    def position(self) -> str:
        """The event's place in commit order, written like a Redis stream id."""
        return f"{self.transaction_id}-{self.global_position}"

    @classmethod
    def from_log(cls, row: Any) -> "LoggedEvent":
        """From a row of the events table (any mapping), its data upcast to today's shape."""
        return cls(
            global_position=row["global_position"],
            transaction_id=row["transaction_id"],
            thread_id=row["thread_id"],
            version=row["version"],
            event_id=row["event_id"],
            type=row["type"],
            data=upcast(row["type"], row["data"]),
            metadata=row["metadata"],
            recorded_at=row["recorded_at"],
        )


def thread_created(
    thread_id: str,
    created_at: int,
    metadata: dict[str, str] | None,
    tool_resources: ToolResources | None,
) -> NewEvent:
    return NewEvent(
        THREAD_CREATED,
        {
            "id": thread_id,
            "created_at": created_at,
            "metadata": metadata or {},
            "tool_resources": dump_tool_resources(tool_resources),
        },
    )


def thread_modified(thread: dict[str, Any]) -> NewEvent:
    keys = ("id", "created_at", "metadata", "tool_resources")
    return NewEvent(THREAD_MODIFIED, {k: thread[k] for k in keys})


def thread_deleted(thread_id: str) -> NewEvent:
    return NewEvent(THREAD_DELETED, {"id": thread_id})


def message_created(
    thread_id: str, message_id: str, created_at: int, request: CreateMessage
) -> NewEvent:
    return NewEvent(
        MESSAGE_CREATED,
        {
            "id": message_id,
            "thread_id": thread_id,
            "created_at": created_at,
            "role": request.role,
            "content": _content_parts(request.content),
            "attachments": [_attachment(a) for a in request.attachments or ()],
            "metadata": request.metadata or {},
            "assistant_id": None,
            "run_id": None,
        },
    )


_MESSAGE_KEYS = (
    "id",
    "thread_id",
    "created_at",
    "role",
    "content",
    "attachments",
    "metadata",
    "assistant_id",
    "run_id",
    "position",
)


def message_modified(message: dict[str, Any]) -> NewEvent:
    return NewEvent(MESSAGE_MODIFIED, {k: message[k] for k in _MESSAGE_KEYS})


def message_deleted(message: dict[str, Any]) -> NewEvent:
    return NewEvent(
        MESSAGE_DELETED,
        {"id": message["id"], "thread_id": message["thread_id"], "position": message["position"]},
    )


def dump_tool_resources(tool_resources: ToolResources | None) -> dict[str, Any]:
    return tool_resources.model_dump(exclude_none=True) if tool_resources else {}


def _text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": {"value": value, "annotations": []}}


def _content_parts(content: str | list[Any]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [_text(content)]
    return [
        _text(part.text) if isinstance(part, TextPart) else part.model_dump(exclude_none=True)
        for part in content
    ]


def _attachment(attachment: Attachment) -> dict[str, Any]:
    return attachment.model_dump()
