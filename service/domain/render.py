"""The one place that turns thread and message state into OpenAI's response objects."""

from typing import Any


def render_message(m: Any) -> dict[str, Any]:
    """A message view row (or the state built from its event) as OpenAI's MessageObject."""
    return {
        "id": m["id"],
        "object": "thread.message",
        "created_at": m["created_at"],
        "assistant_id": m["assistant_id"],
        "thread_id": m["thread_id"],
        "run_id": m["run_id"],
        "role": m["role"],
        "content": m["content"],
        "attachments": m["attachments"],
        "metadata": m["metadata"],
        "status": m["status"],
        "incomplete_details": m["incomplete_details"],
        "completed_at": m["completed_at"],
        "incomplete_at": m["incomplete_at"],
    }


def render_thread(t: Any) -> dict[str, Any]:
    return {
        "id": t["id"],
        "object": "thread",
        "created_at": t["created_at"],
        "metadata": t["metadata"],
        "tool_resources": t["tool_resources"],
    }


def render_page(rows: list[Any], has_more: bool) -> dict[str, Any]:
    data = [render_message(r) for r in rows]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }
