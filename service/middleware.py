"""Request ids, metrics, load shedding, authentication, rate limits, and OpenAI-shaped errors
for everything that goes wrong.

One aiohttp middleware (`middleware`), which calls the steps in order as plain coroutines:
each layer of aiohttp's middleware chain costs every request about 3 us (three no-op
middlewares on a bare aiohttp app: 7-10 us a request), against 0.1 us for an awaited call."""

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web

from eventlog.redis_client import REDIS_ERRORS

from . import logs
from .api_versions import shape_of
from .appkeys import API_KEYS, INFLIGHT, PROJECT, RATE_LIMITER, REQUEST_ID, SETTINGS, SHAPE
from .domain.errors import ApiError, not_found
from .metrics import SHED, request_metrics
from .responses import error_response

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Routes anyone may call: liveness, readiness and metrics scraping.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

# Failures of Postgres or Redis being out of reach: the client should retry, not give up.
UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InterfaceError,
    # A connection the server has just killed, taken from the pool before asyncpg has seen it
    # close, fails with this ("another operation is in progress"); the pool drops it and the
    # retry gets a fresh one.
    asyncpg.exceptions.InternalClientError,
    *REDIS_ERRORS,
)


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


def _route(request: web.Request) -> str:
    route = request.match_info.route
    return route.resource.canonical if route.resource is not None else "unmatched"


def _request_id(sent: str | None) -> str:
    """The client's X-Request-Id when it is printable ASCII (it is logged and echoed back in a
    header), else one of ours."""
    if sent and sent.isascii() and sent.isprintable():
        return sent[:128]
    return secrets.token_hex(16)


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Gives the request its id, shapes whatever goes wrong as OpenAI's error body, and counts
    the request by route and status; within it, _shed_load and then _authenticate."""
    request_id = _request_id(request.headers.get("X-Request-Id"))
    request[REQUEST_ID] = request_id
    token = logs.REQUEST_ID.set(request_id)
    started = time.perf_counter()
    try:
        response = await _shed_load(request, handler)
    except ApiError as exc:
        response = error_response(
            exc.status,
            exc.message,
            type=exc.type,
            param=exc.param,
            code=exc.code,
            headers=exc.headers,
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _http_error(request, exc)
    except UNAVAILABLE as exc:
        log.warning("request %s: a dependency is unavailable: %r", request_id, exc)
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
    finally:
        logs.REQUEST_ID.reset(token)
    response.headers["X-Request-Id"] = request_id
    route = _route(request)
    requests, seconds = request_metrics(route, request.method, response.status)
    requests.inc()
    seconds.observe(time.perf_counter() - started)
    return response


async def _shed_load(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuses work past what the process can hold, and bounds how long a request may take,
    so overload shows as quick 503s rather than queues growing until memory runs out."""
    settings = request.app[SETTINGS]
    state = request.app[INFLIGHT]
    if state[0] >= settings.max_inflight:
        return _shed("inflight", "The server is overloaded. Please retry shortly.")
    if request.path.endswith("/events"):  # Server-Sent Events are meant to last
        return await _authenticate(request, handler)
    state[0] += 1
    try:
        async with asyncio.timeout(settings.request_timeout_seconds):
            return await _authenticate(request, handler)
    except TimeoutError:
        return _shed("timeout", "The request took too long. Please retry.")
    finally:
        state[0] -= 1


def _shed(reason: str, message: str) -> web.Response:
    SHED.labels(reason).inc()
    return error_response(503, message, type="server_error", headers={"Retry-After": "1"})


def _no_null_in_ids(ids: dict[str, str]) -> None:
    """No object's id holds U+0000 (and Postgres could not even look one up): not found."""
    for name, value in ids.items():
        if "\x00" in value:
            raise not_found(name.removesuffix("_id"), value, name)


# Bodies are JSON; aiohttp reports a missing Content-Type as application/octet-stream.
JSON_TYPES = frozenset({"application/json", "application/octet-stream"})


async def _authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Route, key, API shape and body type, checked in that order before any handler runs."""
    unmatched = request.match_info.http_exception
    if unmatched is not None:
        raise unmatched
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    request[PROJECT] = await request.app[API_KEYS].project_for(
        request.headers.get("Authorization"), request.headers.get("api-key")
    )
    await request.app[RATE_LIMITER].check(request[PROJECT])
    _no_null_in_ids(request.match_info)
    if request.path.startswith("/openai/"):
        request[SHAPE] = shape_of(request.query.get("api-version"))
    else:
        request[SHAPE] = "v2"
    if request.can_read_body and not (
        request.content_type in JSON_TYPES or request.content_type.endswith("+json")
    ):
        raise web.HTTPUnsupportedMediaType()
    return await handler(request)
