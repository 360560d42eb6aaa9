"""JSON responses serialised with orjson, and OpenAI's error body."""

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web


def json_response(
    body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def error_response(
    status: int,
    message: str,
    *,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """Every non-2xx answer has this body, which the openai SDK maps to its exceptions."""
    error = {"message": message, "type": type, "param": param, "code": code}
    return json_response({"error": error}, status=status, headers=headers)
