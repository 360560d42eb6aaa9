"""The bare endpoint: the least a messages service can do, as the baseline for threadlog.

Same host, same libraries (aiohttp, asyncpg with orjson codecs, redis-py, uvloop), same JSON
shapes, none of the architecture: POST is one INSERT and one XADD, with no validation, no
authentication, no event log and no wait for a projector; GET is one index range scan on a table
shaped like `message_view`. The ratio threadlog/bare then measures what the event-sourced design
costs, not what the libraries cost.

Run it as `python -m bench.bare --port P --database-url ... --redis-url ... --stream KEY`; it
creates its table and sequence in that database when missing.
"""

import argparse
import asyncio
import secrets
import time
from typing import Any

import asyncpg
import orjson
import redis.asyncio as redis
from aiohttp import web

from service import heap

# Shaped like message_view (sql/migrations/0002_views.sql), under its own name. Positions come
# from a sequence: increasing within a thread, which is all a page scan needs.
SCHEMA = """
create table if not exists bare_message_view (
    thread_id text not null,
    position bigint not null,
    id text not null unique,
    created_at bigint not null,
    role text not null,
    content jsonb not null,
    attachments jsonb not null,
    metadata jsonb not null,
    assistant_id text,
    run_id text,
    status text not null,
    incomplete_details jsonb,
    completed_at bigint,
    incomplete_at bigint,
    primary key (thread_id, position)
);
create sequence if not exists bare_position;
"""

INSERT = """
insert into bare_message_view (thread_id, position, id, created_at, role, content, attachments,
                               metadata, status)
values ($1, nextval('bare_position'), $2, $3, $4, $5, '[]', '{}', 'completed')
"""

PAGE = """
select * from bare_message_view where thread_id = $1 order by position desc limit $2
"""

POOL = web.AppKey("pool", asyncpg.Pool)
REDIS = web.AppKey("redis", redis.Redis)
STREAM = web.AppKey("stream", str)


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=_dumps, decoder=orjson.loads, schema="pg_catalog")


def _json(body: Any) -> web.Response:
    return web.Response(body=orjson.dumps(body), content_type="application/json")


def _message(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "thread.message",
        "created_at": row["created_at"],
        "assistant_id": row["assistant_id"],
        "thread_id": row["thread_id"],
        "run_id": row["run_id"],
        "role": row["role"],
        "content": row["content"],
        "attachments": row["attachments"],
        "metadata": row["metadata"],
        "status": row["status"],
        "incomplete_details": row["incomplete_details"],
        "completed_at": row["completed_at"],
        "incomplete_at": row["incomplete_at"],
    }


async def create_message(request: web.Request) -> web.Response:
    body = orjson.loads(await request.read())
    thread_id = request.match_info["thread_id"]
    message = {
        "id": "msg_" + secrets.token_hex(12),
        "object": "thread.message",
        "created_at": int(time.time()),
        "assistant_id": None,
        "thread_id": thread_id,
        "run_id": None,
        "role": body.get("role", "user"),
        "content": [{"type": "text", "text": {"value": body["content"], "annotations": []}}],
        "attachments": [],
        "metadata": {},
        "status": "completed",
        "incomplete_details": None,
        "completed_at": None,
        "incomplete_at": None,
    }
    app = request.app
    await app[POOL].execute(
        INSERT,
        thread_id,
        message["id"],
        message["created_at"],
        message["role"],
        message["content"],
    )
    await app[REDIS].xadd(
        app[STREAM],
        {"event": "thread.message.created", "thread_id": thread_id, "data": orjson.dumps(message)},
        maxlen=1_000_000,
        approximate=True,
    )
    return _json(message)


async def list_messages(request: web.Request) -> web.Response:
    limit = int(request.query.get("limit", "20"))
    rows = await request.app[POOL].fetch(PAGE, request.match_info["thread_id"], limit + 1)
    data = [_message(r) for r in rows[:limit]]
    return _json(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(rows) > limit,
        }
    )


async def healthz(_request: web.Request) -> web.Response:
    return _json({"status": "ok"})


def create_app(database_url: str, redis_url: str, stream: str) -> web.Application:
    app = web.Application()
    app[STREAM] = stream
    app.router.add_post("/v1/threads/{thread_id}/messages", create_message)
    app.router.add_get("/v1/threads/{thread_id}/messages", list_messages)
    app.router.add_get("/healthz", healthz)

    async def resources(app: web.Application):
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(SCHEMA)
        finally:
            await conn.close()
        # The same pool size as threadlog's default (THREADLOG_DB_POOL_MIN/_MAX).
        app[POOL] = await asyncpg.create_pool(
            database_url, min_size=10, max_size=10, init=_init_connection
        )
        app[REDIS] = redis.from_url(redis_url)
        # The same collector settings as threadlog's server: a stack setting, not a feature.
        heap.settle()
        yield
        await app[REDIS].aclose()
        await app[POOL].close()

    app.cleanup_ctx.append(resources)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--stream", required=True, help="the Redis stream key to XADD to")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        pass
    else:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(
        create_app(args.database_url, args.redis_url, args.stream),
        host=args.host,
        port=args.port,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
