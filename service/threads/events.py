"""Events of a thread's life, as stored in the log (a thread is a stream of category "thread").

Every event's ``data`` carries the whole state of the object it describes after the change, in
the shape the API renders (content parts already in their response form). A replay never needs
the request that caused it, and the relay can publish the full object from the event alone.
``created_at`` is decided once, when the first event is made.
"""

from typing import Any

from eventlog.events import NewEvent

from ..domain.ids import new_id
from .requests import Attachment, CreateMessage, TextPart, ToolResources

# The category of a thread's stream in the log.
CATEGORY = "thread"

THREAD_CREATED = "ThreadCreated"
THREAD_MODIFIED = "ThreadModified"
THREAD_DELETED = "ThreadDeleted"
MESSAGE_CREATED = "MessageCreated"
MESSAGE_MODIFIED = "MessageModified"
MESSAGE_DELETED = "MessageDeleted"

# The OpenAI-style name each event type is published under. OpenAI names the first two; the
# others are this service's extensions, named in the same style.
EVENT_NAMES = {
    THREAD_CREATED: "thread.created",
    THREAD_MODIFIED: "thread.modified",
    THREAD_DELETED: "thread.deleted",
    MESSAGE_CREATED: "thread.message.created",
    MESSAGE_MODIFIED: "thread.message.modified",
    MESSAGE_DELETED: "thread.message.deleted",
}


def new_thread_id() -> str:
    return new_id("thread")


def new_message_id() -> str:
    return new_id("msg")


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
