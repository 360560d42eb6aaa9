"""The one place that turns thread and message state into API response objects.

Two shapes: "v2" (OpenAI's /v1 API and Azure's 2024-05-01-preview and later, with
`attachments` and `tool_resources`) and "v1" (Azure's 2024-02-15-preview family, with
`file_ids`). A message written in one shape reads in the other: a v1 `file_ids` entry is an
attachment with no tools, and an attachment's `file_id` is a v1 file id.
"""

from typing import Any

from ..domain.render import Shape, render_list


def render_message(m: Any, shape: Shape = "v2") -> dict[str, Any]:
    """A message view row (or the state built from its events) as a message object."""
    if shape == "v1":
        return {
            "id": m["id"],
            "object": "thread.message",
            "created_at": m["created_at"],
            "thread_id": m["thread_id"],
            "role": m["role"],
            "content": m["content"],
            "assistant_id": m["assistant_id"],
            "run_id": m["run_id"],
            "file_ids": file_ids(m),
            "metadata": m["metadata"],
        }
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


def file_ids(m: Any) -> list[str]:
    return [a["file_id"] for a in m["attachments"]]


def render_thread(t: Any, shape: Shape = "v2") -> dict[str, Any]:
    thread = {
        "id": t["id"],
        "object": "thread",
        "created_at": t["created_at"],
        "metadata": t["metadata"],
    }
    if shape == "v2":
        thread["tool_resources"] = t["tool_resources"]
    return thread


def render_page(rows: list[Any], has_more: bool, shape: Shape = "v2") -> dict[str, Any]:
    return render_list([render_message(r, shape) for r in rows], has_more)


def render_message_file(m: Any, file_id: str) -> dict[str, Any]:
    """A v1 message file object: a file attached to a message."""
    return {
        "id": file_id,
        "object": "thread.message.file",
        "created_at": m["created_at"],
        "message_id": m["id"],
    }
