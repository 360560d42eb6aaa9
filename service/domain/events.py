"""Events of a thread's life, as stored in the log.

An event's ``data`` is everything needed to rebuild the object it describes, in the shape the
API renders (content parts already in their response form), so a replay never needs the
request that caused it. ``created_at`` is decided once, when the event is made.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .requests import Attachment, CreateMessage, TextPart, ToolResources

THREAD_CREATED = "ThreadCreated"
MESSAGE_CREATED = "MessageCreated"

# The OpenAI-style name each event type is published under.
EVENT_NAMES = {
    THREAD_CREATED: "thread.created",
    MESSAGE_CREATED: "thread.message.created",
}


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended."""

    type: str
    data: dict[str, Any]
    event_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event as read back from the log, in commit order."""

    global_position: int
    transaction_id: int
    thread_id: str
    version: int
    event_id: uuid.UUID
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime

    @property
    def position(self) -> str:
        """The event's place in commit order, written like a Redis stream id."""
        return f"{self.transaction_id}-{self.global_position}"


def thread_created(
    thread_id: str,
    created_at: int,
    metadata: dict[str, str] | None,
    tool_resources: ToolResources | None,
) -> NewEvent:
    resources = (
        tool_resources.model_dump(exclude_none=True, exclude_unset=True) if tool_resources else {}
    )
    return NewEvent(
        type=THREAD_CREATED,
        data={
            "id": thread_id,
            "created_at": created_at,
            "metadata": metadata or {},
            "tool_resources": resources,
        },
        event_id=uuid.uuid4(),
    )


def message_created(
    thread_id: str, message_id: str, created_at: int, request: CreateMessage
) -> NewEvent:
    return NewEvent(
        type=MESSAGE_CREATED,
        data={
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
        event_id=uuid.uuid4(),
    )


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
