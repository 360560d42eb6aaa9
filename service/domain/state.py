"""How events become the state of threads and messages: the one fold of the log.

The projector writes these states to the views; the API falls back to them when a view is late;
the relay renders them for subscribers. One function per event type keeps all three in step.
"""

from typing import Any

from .events import MESSAGE_CREATED, THREAD_CREATED, LoggedEvent
from .render import render_message, render_thread


def thread_state(data: dict[str, Any], project: str, version: int) -> dict[str, Any]:
    return {
        "id": data["id"],
        "project": project,
        "created_at": data["created_at"],
        "metadata": data["metadata"],
        "tool_resources": data["tool_resources"],
        "version": version,
    }


def message_state(data: dict[str, Any], position: int) -> dict[str, Any]:
    # Messages written through this API are complete when created; only runs (not part of this
    # service) produce in_progress or incomplete messages.
    return {
        "thread_id": data["thread_id"],
        "position": position,
        "id": data["id"],
        "created_at": data["created_at"],
        "role": data["role"],
        "content": data["content"],
        "attachments": data["attachments"],
        "metadata": data["metadata"],
        "assistant_id": data["assistant_id"],
        "run_id": data["run_id"],
        "status": "completed",
        "incomplete_details": None,
        "completed_at": None,
        "incomplete_at": None,
    }


class ViewChanges:
    """What one batch of events does to the views, gathered so it can be written in bulk."""

    __slots__ = ("messages", "thread_versions", "threads")

    def __init__(self) -> None:
        self.threads: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.thread_versions: dict[str, int] = {}

    def apply(self, event: LoggedEvent) -> None:
        if event.type == THREAD_CREATED:
            project = event.metadata.get("project", "")
            self.threads.append(thread_state(event.data, project, event.version))
        elif event.type == MESSAGE_CREATED:
            self.messages.append(message_state(event.data, event.version))
        self.thread_versions[event.thread_id] = event.version


def view_changes(events: list[LoggedEvent]) -> ViewChanges:
    changes = ViewChanges()
    for event in events:
        changes.apply(event)
    return changes


def rendered_object(event: LoggedEvent) -> dict[str, Any] | None:
    """The API object an event describes, as published to subscribers."""
    if event.type == THREAD_CREATED:
        return render_thread(thread_state(event.data, event.metadata.get("project", ""), 1))
    if event.type == MESSAGE_CREATED:
        return render_message(message_state(event.data, event.version))
    return None
