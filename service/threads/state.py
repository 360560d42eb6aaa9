"""The state of a thread and of a message, as their events carry it.

The projections write these states to the views (projection.py); the API answers a write with
them and replays them for idempotent retries; the relay renders them for subscribers. One
function per object keeps all of them in step.
"""

from typing import Any


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
