"""Request ids, authentication, and OpenAI-shaped errors for everything that goes wrong."""

import logging
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web

from .api_versions import shape_of
from .appkeys import API_KEYS, PROJECT, REQUEST_ID, SHAPE
from .domain.errors import ApiError
from .responses import error_response

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Routes anyone may call: liveness and metrics scraping.
PUBLIC_PATHS = frozenset({"/healthz", "/metrics"})


def _http_error(request: web.Request, exc: web.HTTPException) -> web.Response:
    if exc.status == 404:
        message = f"Invalid URL ({request.method} {request.path})"
    elif exc.status == 405:
        message = f"Invalid method for URL ({request.method} {request.path})"
    elif exc.status == 413:
        message = "Request body too large."
    elif exc.status == 415:
        message = (
            f"Unsupported Content-Type '{request.content_type}': send the body as application/json."
        )
    else:
        message = exc.reason
    return error_response(exc.status, message)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    try:
        response = await handler(request)
    except ApiError as exc:
        response = error_response(
            exc.status, exc.message, type=exc.type, param=exc.param, code=exc.code
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _http_error(request, exc)
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
        log.warning("request %s: database unavailable: %r", request_id, exc)
        response = error_response(
            503,
            "The service is temporarily unavailable. Please retry.",
            type="server_error",
            headers={"Retry-After": "1"},
        )
    except Exception:
        log.exception("request %s failed", request_id)
        response = error_response(
            500,
            "The server had an error while processing your request. Sorry about that! "
            f"(request id {request_id})",
            type="server_error",
        )
    response.headers["X-Request-Id"] = request_id
    return response


# Bodies are JSON; aiohttp reports a missing Content-Type as application/octet-stream.
JSON_TYPES = frozenset({"application/json", "application/octet-stream"})


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Route, key, API shape and body type, checked in that order before any handler runs."""
    unmatched = request.match_info.http_exception
    if unmatched is not None:
        raise unmatched
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    request[PROJECT] = await request.app[API_KEYS].project_for(
        request.headers.get("Authorization"), request.headers.get("api-key")
    )
    if request.path.startswith("/openai/"):
        request[SHAPE] = shape_of(request.query.get("api-version"))
    else:
        request[SHAPE] = "v2"
    if request.can_read_body and not (
        request.content_type in JSON_TYPES or request.content_type.endswith("+json")
    ):
        raise web.HTTPUnsupportedMediaType()
    return await handler(request)
