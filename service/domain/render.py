"""The response objects every resource shares: lists and deletion confirmations."""

from typing import Any, Literal

# The response shape: "v2" (OpenAI's /v1 API, Azure's 2024-05-01-preview and later) or "v1"
# (Azure's 2024-02-15-preview family); each resource's renderer says what differs.
Shape = Literal["v1", "v2"]


def render_deleted(object_id: str, kind: str) -> dict[str, Any]:
    return {"id": object_id, "object": kind, "deleted": True}


def render_list(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }
