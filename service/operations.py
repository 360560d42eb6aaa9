"""The service layer: each API operation as a verb, between the HTTP handlers and the stores.

Writes append events and never touch the views; answers come from the views once the
projector has reached the write (read-your-writes, bounded by a timeout after which the answer
is built from the same state the projector would have written, and flagged as such).
"""

import time
from dataclasses import dataclass
from typing import Any

import asyncpg

from projections.log_reader import LogPosition

from .domain import events as ev
from .domain.errors import thread_not_found
from .domain.ids import new_message_id, new_thread_id
from .domain.listing import ListQuery, cursor_not_in_thread, plan_page
from .domain.render import render_message, render_page, render_thread
from .domain.requests import CreateMessage, CreateThread
from .domain.state import message_state, thread_state
from .metrics import READ_YOUR_WRITES_TIMEOUTS
from .store import views
from .store.event_store import Appended, append
from .store.projection_wait import ProjectionWait


@dataclass(frozen=True)
class Context:
    pool: asyncpg.Pool
    projection: ProjectionWait
    read_your_writes_timeout: float


@dataclass(frozen=True, slots=True)
class Answer:
    body: dict[str, Any]
    # False when the bounded wait for the projector ran out and the body was built without it.
    projected: bool = True


def _now() -> int:
    return int(time.time())


async def _projected(ctx: Context, appended: Appended, operation: str) -> bool:
    target = LogPosition(appended.transaction_id, appended.global_position)
    if await ctx.projection.wait(target, ctx.read_your_writes_timeout):
        return True
    READ_YOUR_WRITES_TIMEOUTS.labels(operation).inc()
    return False


async def create_thread(
    ctx: Context, project: str, request: CreateThread, metadata: dict[str, Any]
) -> Answer:
    thread_id, created_at = new_thread_id(), _now()
    new_events = [
        ev.thread_created(thread_id, created_at, request.metadata, request.tool_resources)
    ]
    new_events += [
        ev.message_created(thread_id, new_message_id(), created_at, message)
        for message in request.messages or ()
    ]
    appended = await append(ctx.pool, thread_id, project, new_events, metadata, create=True)
    assert appended is not None  # creating never finds the thread missing
    if await _projected(ctx, appended, "create_thread"):
        row = await views.thread(ctx.pool, thread_id, project)
        if row is not None:
            return Answer(render_thread(row))
    state = thread_state(new_events[0].data, project, appended.last_version)
    return Answer(render_thread(state), projected=False)


async def create_message(
    ctx: Context, project: str, thread_id: str, request: CreateMessage, metadata: dict[str, Any]
) -> Answer:
    event = ev.message_created(thread_id, new_message_id(), _now(), request)
    appended = await append(ctx.pool, thread_id, project, [event], metadata, create=False)
    if appended is None:
        raise thread_not_found(thread_id)
    if await _projected(ctx, appended, "create_message"):
        row = await views.message_at(ctx.pool, thread_id, appended.last_version)
        if row is not None:
            return Answer(render_message(row))
    return Answer(render_message(message_state(event.data, appended.last_version)), False)


async def list_messages(ctx: Context, project: str, thread_id: str, q: ListQuery) -> Answer:
    plan = plan_page(q)
    waited = False
    while True:
        page = await views.messages_page(
            ctx.pool,
            thread_id,
            project,
            direction=plan.direction,
            lower_id=plan.lower_id,
            upper_id=plan.upper_id,
            limit=q.limit + 1,
            run_id=q.run_id,
        )
        if page is None:
            raise thread_not_found(thread_id)
        if page.view_version >= page.head_version or waited:
            break
        # The thread has events the projector has not applied yet: wait for them once.
        target = await views.event_position(ctx.pool, thread_id, page.head_version)
        waited = True
        if not await ctx.projection.wait(target, ctx.read_your_writes_timeout):
            READ_YOUR_WRITES_TIMEOUTS.labels("list_messages").inc()
            break
    after_position, before_position = (
        (page.lower_position, page.upper_position)
        if q.order == "asc"
        else (page.upper_position, page.lower_position)
    )
    if q.after is not None and after_position is None:
        raise cursor_not_in_thread("after", q.after, thread_id)
    if q.before is not None and before_position is None:
        raise cursor_not_in_thread("before", q.before, thread_id)
    rows = page.rows[: q.limit]
    if plan.reverse:
        rows.reverse()
    return Answer(
        render_page(rows, has_more=len(page.rows) > q.limit),
        projected=page.view_version >= page.head_version,
    )
