"""The service layer: each API operation as a verb, between the HTTP handlers and the stores.

Writes append events and never touch the views. A write answers once the projector has reached
it (read-your-writes), with the state its own event carries: the row the projector wrote from
that event, without a second round trip to read it back (which could also show a later writer's
change instead of this write's result). Reads answer from the views once they have reached the
thread's head. The wait is bounded: past it, a write answers all the same and a read answers
from the view as it stands, both flagged.
Writes that depend on current state (modify, delete) decide from the view at a known version
and append only if the thread is still at that version, deciding again if not.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from projections.consumer import LocalConsumers
from projections.log_reader import LogPosition

from .domain import events as ev
from .domain.errors import ApiError, NotFound, thread_not_found
from .domain.idempotency import event_ids, key_reused
from .domain.ids import new_message_id, new_thread_id
from .domain.listing import ListQuery, cursor_not_in_thread, plan_page
from .domain.metadata import updated_metadata
from .domain.render import (
    Shape,
    render_deleted,
    render_list,
    render_message,
    render_message_file,
    render_page,
    render_thread,
)
from .domain.requests import CreateMessage, CreateThread, ModifyMessage, ModifyThread
from .domain.state import message_state, thread_state
from .metrics import READ_YOUR_WRITES_TIMEOUTS
from .store import views
from .store.database import Pool
from .store.event_store import (
    Appended,
    DuplicateEvents,
    ThreadIdTaken,
    VersionConflict,
    append,
    events_by_id,
)
from .store.projection_wait import ProjectionWait

# How many times a modify or delete decides again when the thread moved on meanwhile.
DECIDE_ATTEMPTS = 10


@dataclass(frozen=True)
class Context:
    pool: Pool
    projection: ProjectionWait
    read_your_writes_timeout: float
    # The projector and relay when they run in this process, woken directly after an append.
    consumers: LocalConsumers = field(default_factory=LocalConsumers)
    # A read replica for retrieve and list (THREADLOG_READ_DATABASE_URL), or None.
    replica: Pool | None = None


@dataclass(frozen=True)
class Caller:
    """Who is asking, and how: the project, the response shape, and idempotency."""

    project: str
    shape: Shape = "v2"
    request_id: str = ""
    idempotency_key: str | None = None
    fingerprint: str | None = None

    def event_metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"project": self.project, "request_id": self.request_id}
        if self.idempotency_key is not None:
            meta["idempotency_key"] = self.idempotency_key
            meta["request_fingerprint"] = self.fingerprint
        return meta


@dataclass(frozen=True, slots=True)
class Answer:
    body: dict[str, Any]
    # False when the bounded wait for the projector ran out and the body was built without it.
    projected: bool = True


class Unavailable(ApiError):
    status = 503
    type = "server_error"


def message_not_found(message_id: str) -> NotFound:
    return NotFound(f"No message found with id '{message_id}'.", param="message_id")


def _now() -> int:
    return int(time.time())


async def _projected(ctx: Context, appended: Appended, operation: str) -> bool:
    target = LogPosition.of(appended)
    if await ctx.projection.wait(target, ctx.read_your_writes_timeout):
        return True
    READ_YOUR_WRITES_TIMEOUTS.labels(operation).inc()
    return False


async def _append(
    ctx: Context,
    caller: Caller,
    thread_id: str,
    new_events: list[ev.NewEvent],
    **options: Any,
) -> tuple[Appended | None, list[ev.LoggedEvent] | None]:
    """Appends; for an idempotent retry, appends nothing and returns the first attempt's events."""
    ids = event_ids(caller.project, caller.idempotency_key, len(new_events))
    wake_here = ctx.consumers.all_following
    try:
        appended = await append(
            ctx.pool,
            thread_id,
            caller.project,
            new_events,
            ids,
            caller.event_metadata(),
            notify=not wake_here,
            **options,
        )
        if wake_here and appended is not None:  # None: nothing was appended
            ctx.consumers.poke(LogPosition.of(appended))
        return appended, None
    except DuplicateEvents:
        first = await _first_attempt(ctx, caller, ids)
        if first is None:
            raise key_reused(caller.idempotency_key or "") from None
        return None, first


async def _first_attempt(ctx: Context, caller: Caller, ids: list) -> list[ev.LoggedEvent] | None:
    """The events the first attempt of this idempotent request appended, if any; a key used
    for a different request is refused."""
    first = await events_by_id(ctx.pool, ids)
    if first and first[0].metadata.get("request_fingerprint") != caller.fingerprint:
        raise key_reused(caller.idempotency_key or "")
    return first or None


async def _earlier(ctx: Context, caller: Caller) -> list[ev.LoggedEvent] | None:
    """The events of an earlier attempt of this idempotent request, if there was one.

    Checked before deciding from current state, which the first attempt may have changed
    (a retried delete would otherwise find nothing left to delete)."""
    if caller.idempotency_key is None:
        return None
    return await _first_attempt(ctx, caller, event_ids(caller.project, caller.idempotency_key, 1))


Reader = Callable[[Pool], Awaitable[views.Read | None]]

# A replica's view is polled for a write it must show, from this pause up to the longest.
REPLICA_POLL_SECONDS = (0.002, 0.05)


async def _fresh(
    ctx: Context,
    read: Reader,
    project: str,
    thread_id: str,
    operation: str,
    *,
    replica: bool = False,
) -> tuple[views.Read, bool]:
    """Reads once the view has reached the thread's head (bounded); 404 if the thread is gone.
    `replica`: the read may go to the read replica, when there is one."""
    if replica and ctx.replica is not None:
        return await _fresh_on_replica(ctx, read, project, thread_id, operation)
    result = await read(ctx.pool)
    if result is None:
        raise thread_not_found(thread_id)
    if not result.behind:
        return result, True
    target = await views.event_position(ctx.pool, thread_id, result.head_version)
    caught_up = await ctx.projection.wait(target, ctx.read_your_writes_timeout)
    if not caught_up:
        READ_YOUR_WRITES_TIMEOUTS.labels(operation).inc()
    result = await read(ctx.pool)
    if result is None:
        raise thread_not_found(thread_id)
    return result, not result.behind


async def _fresh_on_replica(
    ctx: Context, read: Reader, project: str, thread_id: str, operation: str
) -> tuple[views.Read, bool]:
    """The thread's head version comes from the primary: a replica that has not replayed a
    write yet has the old head as well, and its view would look current without the write.
    The read itself goes to the replica once its view has reached that version, polled, since
    notifications are not replicated; within the same bounded wait as on the primary."""
    assert ctx.replica is not None
    head = await views.head_version(ctx.pool, project, thread_id)
    if head is None:
        raise thread_not_found(thread_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ctx.read_your_writes_timeout
    result = await read(ctx.replica)
    if result is not None and result.view_version >= head:
        return result, True
    # First the projector, on the primary; then the replica's replay of what it wrote.
    target = await views.event_position(ctx.pool, thread_id, head)
    await ctx.projection.wait(target, max(0.0, deadline - loop.time()))
    pause, longest = REPLICA_POLL_SECONDS
    while True:
        result = await read(ctx.replica)
        if result is not None and result.view_version >= head:
            return result, True
        left = deadline - loop.time()
        if left <= 0:
            break
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, longest)
    READ_YOUR_WRITES_TIMEOUTS.labels(operation).inc()
    if result is None:  # the replica has not seen the thread at all yet
        raise Unavailable("The thread is still being written. Please retry.")
    return result, False


# Threads


async def create_thread(ctx: Context, caller: Caller, request: CreateThread) -> Answer:
    created_at = _now()
    while True:
        thread_id = new_thread_id()
        new_events = [
            ev.thread_created(thread_id, created_at, request.metadata, request.tool_resources)
        ]
        new_events += [
            ev.message_created(thread_id, new_message_id(), created_at, message)
            for message in request.messages or ()
        ]
        try:
            appended, replay = await _append(ctx, caller, thread_id, new_events, create=True)
            break
        except ThreadIdTaken:
            continue  # a 143-bit random id collided: draw another
    if replay is not None:
        first = replay[0]
        return Answer(render_thread(thread_state(first.data, caller.project, 1), caller.shape))
    assert appended is not None
    projected = await _projected(ctx, appended, "create_thread")
    state = thread_state(new_events[0].data, caller.project, appended.last_version)
    return Answer(render_thread(state, caller.shape), projected)


async def _current_thread(
    ctx: Context, caller: Caller, thread_id: str, operation: str, *, replica: bool = False
):
    read, projected = await _fresh(
        ctx,
        lambda pool: views.thread(pool, caller.project, thread_id),
        caller.project,
        thread_id,
        operation,
        replica=replica,
    )
    if read.row is None:
        raise Unavailable("The thread is still being written. Please retry.")
    return read, projected


async def retrieve_thread(ctx: Context, caller: Caller, thread_id: str) -> Answer:
    read, projected = await _current_thread(ctx, caller, thread_id, "retrieve_thread", replica=True)
    return Answer(render_thread(read.row, caller.shape), projected)


async def _modify(
    ctx: Context,
    caller: Caller,
    thread_id: str,
    operation: str,
    load: Callable[[], Awaitable[views.Read]],
    change: Callable[[dict[str, Any]], ev.NewEvent],
    render: Callable[[dict[str, Any]], dict[str, Any]],
) -> Answer:
    """Decide a change from the current state and append it at that state's version; if the
    thread moved on meanwhile, decide again. The answer is the state the event carries, which
    is the view's at that version once projected (reading the view afterwards could show a
    later writer's change instead); a retried idempotent request gets its first result."""
    earlier = await _earlier(ctx, caller)
    if earlier is not None:
        return Answer(render(earlier[0].data))
    for _ in range(DECIDE_ATTEMPTS):
        read = await load()
        event = change(dict(read.row))
        try:
            appended, replay = await _append(
                ctx, caller, thread_id, [event], expected_version=read.view_version
            )
        except VersionConflict:
            continue
        if replay is not None:
            return Answer(render(replay[0].data))
        if appended is None:
            raise thread_not_found(thread_id)
        return Answer(render(event.data), await _projected(ctx, appended, operation))
    raise Unavailable("The thread is changing too fast to modify. Please retry.")


async def modify_thread(
    ctx: Context, caller: Caller, thread_id: str, request: ModifyThread
) -> Answer:
    def change(thread: dict[str, Any]) -> ev.NewEvent:
        if "metadata" in request.model_fields_set:
            thread["metadata"] = updated_metadata(thread["metadata"], request.metadata)
        if "tool_resources" in request.model_fields_set:
            thread["tool_resources"] = ev.dump_tool_resources(request.tool_resources)
        return ev.thread_modified(thread)

    async def load() -> views.Read:
        read, _ = await _current_thread(ctx, caller, thread_id, "modify_thread")
        return read

    def render(thread: dict[str, Any]) -> dict[str, Any]:
        return render_thread(thread, caller.shape)

    return await _modify(ctx, caller, thread_id, "modify_thread", load, change, render)


async def delete_thread(ctx: Context, caller: Caller, thread_id: str) -> Answer:
    if await _earlier(ctx, caller) is not None:
        return Answer(render_deleted(thread_id, "thread.deleted"))
    appended, replay = await _append(
        ctx, caller, thread_id, [ev.thread_deleted(thread_id)], delete=True
    )
    if appended is None and replay is None:
        raise thread_not_found(thread_id)
    # The stream head says "deleted" from this commit on, so every reader answers 404 at once,
    # whatever the projector's progress.
    return Answer(render_deleted(thread_id, "thread.deleted"))


# Messages


async def create_message(
    ctx: Context, caller: Caller, thread_id: str, request: CreateMessage
) -> Answer:
    event = ev.message_created(thread_id, new_message_id(), _now(), request)
    appended, replay = await _append(ctx, caller, thread_id, [event])
    if replay is not None:
        first = replay[0]
        return Answer(render_message(message_state(first.data, first.version), caller.shape))
    if appended is None:
        raise thread_not_found(thread_id)
    projected = await _projected(ctx, appended, "create_message")
    state = message_state(event.data, appended.last_version)
    return Answer(render_message(state, caller.shape), projected)


async def _current_message(
    ctx: Context,
    caller: Caller,
    thread_id: str,
    message_id: str,
    operation: str,
    *,
    replica: bool = False,
):
    read, projected = await _fresh(
        ctx,
        lambda pool: views.message(pool, caller.project, thread_id, message_id),
        caller.project,
        thread_id,
        operation,
        replica=replica,
    )
    if read.row is None:
        raise message_not_found(message_id)
    return read, projected


async def retrieve_message(ctx: Context, caller: Caller, thread_id: str, message_id: str) -> Answer:
    read, projected = await _current_message(
        ctx, caller, thread_id, message_id, "retrieve_message", replica=True
    )
    return Answer(render_message(read.row, caller.shape), projected)


async def modify_message(
    ctx: Context, caller: Caller, thread_id: str, message_id: str, request: ModifyMessage
) -> Answer:
    def change(message: dict[str, Any]) -> ev.NewEvent:
        if "metadata" in request.model_fields_set:
            message["metadata"] = updated_metadata(message["metadata"], request.metadata)
        return ev.message_modified(message)

    async def load() -> views.Read:
        read, _ = await _current_message(ctx, caller, thread_id, message_id, "modify_message")
        return read

    return await _modify(
        ctx,
        caller,
        thread_id,
        "modify_message",
        load,
        change,
        lambda data: render_message(message_state(data), caller.shape),
    )


async def delete_message(ctx: Context, caller: Caller, thread_id: str, message_id: str) -> Answer:
    deleted = render_deleted(message_id, "thread.message.deleted")
    if await _earlier(ctx, caller) is not None:
        return Answer(deleted)
    for _ in range(DECIDE_ATTEMPTS):
        read, _ = await _current_message(ctx, caller, thread_id, message_id, "delete_message")
        event = ev.message_deleted(dict(read.row))
        try:
            appended, replay = await _append(
                ctx, caller, thread_id, [event], expected_version=read.view_version
            )
        except VersionConflict:
            continue
        if appended is None and replay is None:
            raise thread_not_found(thread_id)
        return Answer(deleted)
    raise Unavailable("The thread is changing too fast to delete from. Please retry.")


async def list_messages(ctx: Context, caller: Caller, thread_id: str, q: ListQuery) -> Answer:
    plan = plan_page(q)
    page, projected = await _fresh(
        ctx,
        lambda pool: views.messages_page(
            pool,
            caller.project,
            thread_id,
            direction=plan.direction,
            lower_id=plan.lower_id,
            upper_id=plan.upper_id,
            limit=q.limit + 1,
            run_id=q.run_id,
        ),
        caller.project,
        thread_id,
        "list_messages",
        replica=True,
    )
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
    return Answer(render_page(rows, len(page.rows) > q.limit, caller.shape), projected)


async def list_message_files(
    ctx: Context, caller: Caller, thread_id: str, message_id: str
) -> Answer:
    """Azure v1: the files attached to a message (all of them: a message has at most 10)."""
    read, projected = await _current_message(
        ctx, caller, thread_id, message_id, "list_files", replica=True
    )
    files = [render_message_file(read.row, a["file_id"]) for a in read.row["attachments"]]
    return Answer(render_list(files, has_more=False), projected)


async def retrieve_message_file(
    ctx: Context, caller: Caller, thread_id: str, message_id: str, file_id: str
) -> Answer:
    read, projected = await _current_message(
        ctx, caller, thread_id, message_id, "retrieve_file", replica=True
    )
    if all(a["file_id"] != file_id for a in read.row["attachments"]):
        raise NotFound(
            f"No file found with id '{file_id}' in message '{message_id}'.", param="file_id"
        )
    return Answer(render_message_file(read.row, file_id), projected)
