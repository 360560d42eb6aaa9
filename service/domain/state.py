"""How events become the state of threads and messages: the one fold of the log.

The projector writes these states to the views; the API falls back to them when a view is late
and replays them for idempotent retries; the relay renders them for subscribers. One function
per event type keeps all of them in step.
"""

from typing import Any

from . import events as ev
from .events import LoggedEvent
from .render import render_deleted, render_message, render_thread


def thread_state(data: dict[str, Any], project: str, version: int) -> dict[str, Any]:
    return {
        "id": data["id"],
        "project": project,
        "created_at": data["created_at"],
        "metadata": data["metadata"],
        "tool_resources": data["tool_resources"],
        "version": version,
    }


def message_state(data: dict[str, Any], position: int | None = None) -> dict[str, Any]:
    """A message from its MessageCreated data (position: the event's version) or from later
    events' data, which carry their position."""
    # Messages written through this API are complete when created; only runs (not part of this
    # service) produce in_progress or incomplete messages.
    return {
        "thread_id": data["thread_id"],
        "position": data.get("position", position),
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
    """What one batch of events does to the views, folded to each row's final state so it can
    be written in bulk: upserts, deletions, and each touched thread's new version."""

    __slots__ = ("deleted_messages", "deleted_threads", "messages", "thread_versions", "threads")

    def __init__(self) -> None:
        self.threads: dict[str, dict[str, Any]] = {}
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}
        self.deleted_threads: set[str] = set()
        self.deleted_messages: set[tuple[str, int]] = set()
        self.thread_versions: dict[str, int] = {}

    def apply(self, event: LoggedEvent) -> None:
        kind, data = event.type, event.data
        if kind in (ev.THREAD_CREATED, ev.THREAD_MODIFIED):
            project = event.metadata.get("project", "")
            self.threads[event.thread_id] = thread_state(data, project, event.version)
        elif kind == ev.THREAD_DELETED:
            self.deleted_threads.add(event.thread_id)
            self.threads.pop(event.thread_id, None)
            for key in [k for k in self.messages if k[0] == event.thread_id]:
                del self.messages[key]
        elif kind in (ev.MESSAGE_CREATED, ev.MESSAGE_MODIFIED):
            state = message_state(data, event.version)
            self.messages[(event.thread_id, state["position"])] = state
        elif kind == ev.MESSAGE_DELETED:
            key = (event.thread_id, data["position"])
            self.messages.pop(key, None)
            self.deleted_messages.add(key)
        self.thread_versions[event.thread_id] = event.version


def view_changes(events: list[LoggedEvent]) -> ViewChanges:
    changes = ViewChanges()
    for event in events:
        changes.apply(event)
    return changes


def rendered_object(event: LoggedEvent) -> dict[str, Any]:
    """The API object an event describes (v2 shape), as published to subscribers."""
    kind, data = event.type, event.data
    if kind in (ev.THREAD_CREATED, ev.THREAD_MODIFIED):
        return render_thread(thread_state(data, event.metadata.get("project", ""), event.version))
    if kind in (ev.MESSAGE_CREATED, ev.MESSAGE_MODIFIED):
        return render_message(message_state(data, event.version))
    if kind == ev.THREAD_DELETED:
        return render_deleted(data["id"], "thread.deleted")
    if kind == ev.MESSAGE_DELETED:
        return render_deleted(data["id"], "thread.message.deleted")
    raise ValueError(f"unknown event type {kind!r}")
