"""HTTP handlers' shared parts: read the request, call the operation, write the answer; and the
routes every process serves besides the resources' (health, readiness, metrics)."""

import os

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from . import health
from .appkeys import CONTEXT, PROJECT, REDIS, REQUEST_ID, SETTINGS, SHAPE
from .context import Answer, Caller, Context
from .domain.idempotency import check_key, fingerprint
from .domain.requests import parse_body
from .responses import error_response, json_response

# Says that a response was built before the projector reached the write it reports.
CONSISTENCY_HEADER = "Threadlog-Read-Your-Writes"


def answer(result: Answer) -> web.Response:
    headers = None if result.projected else {CONSISTENCY_HEADER: "timeout"}
    return json_response(result.body, headers=headers)


def context(request: web.Request) -> Context:
    return request.app[CONTEXT]


def caller(request: web.Request, operation: str, body: BaseModel | None = None) -> Caller:
    """Who asks, in which shape, and the idempotency fingerprint of the operation, its path
    and its body as sent."""
    key = check_key(request.headers.get("Idempotency-Key"))
    return Caller(
        project=request[PROJECT],
        shape=request[SHAPE],
        request_id=request[REQUEST_ID],
        idempotency_key=key,
        fingerprint=None
        if key is None
        else fingerprint(
            operation,
            dict(request.match_info),
            body.model_dump(mode="json", exclude_unset=True) if body else None,
        ),
    )


def path(request: web.Request, name: str) -> str:
    return request.match_info[name]


def require_shape(request: web.Request, shape: str) -> None:
    """Routes that exist in one shape only (Azure's v1 message files, v2's message deletion)
    are unknown URLs in the other."""
    if request[SHAPE] != shape:
        raise web.HTTPNotFound()


async def body(request: web.Request, operation: str, v2: type, v1: type | None = None):
    """The request body in the v2 model, validated in the shape the API version speaks, and
    the caller (whose idempotency fingerprint is taken on the body as sent)."""
    raw = await request.read()
    if v1 is not None and request[SHAPE] == "v1":
        sent = parse_body(v1, raw)
        return caller(request, operation, sent), sent.as_v2()
    parsed = parse_body(v2, raw)
    return caller(request, operation, parsed), parsed


async def healthz(_request: web.Request) -> web.Response:
    # The pid tells which process answered when several share a port (serve --processes).
    return json_response({"status": "ok", "pid": os.getpid()})


async def readyz(request: web.Request) -> web.Response:
    report = await health.readiness(
        request.app[CONTEXT].pool, request.app[REDIS], request.app[SETTINGS].ready_max_lag_seconds
    )
    if report.ready:
        return json_response({"status": "ready", "checks": report.checks})
    return error_response(
        503,
        "Not ready: " + "; ".join(report.problems),
        type="server_error",
        headers={"Retry-After": "5"},
    )


async def metrics(request: web.Request) -> web.Response:
    await health.refresh_lag_metrics(request.app[CONTEXT].pool)
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


def setup_service_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
