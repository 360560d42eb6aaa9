"""The threads API's operations, each a verb, on the shared write and read paths
(service/writes.py, service/reads.py)."""

import time
from typing import Any

from eventlog.append import StreamIdTaken
from eventlog.events import NewEvent

from ..context import Answer, Caller, Context, Unavailable
from ..domain.errors import NotFound, not_found
from ..domain.listing import ListQuery, cursor_not_in, plan_page
from ..domain.metadata import updated_metadata
from ..domain.render import render_deleted, render_list
from ..reads import Read, fresh
from ..writes import (
    answered_meanwhile,
    append_events,
    decide_and_append,
    earlier_attempt,
    projected,
)
from . import events as ev
from . import views
from .render import render_message, render_message_file, render_page, render_thread
from .requests import CreateMessage, CreateThread, ModifyMessage, ModifyThread
from .state import message_state, thread_state


def thread_not_found(thread_id: str) -> NotFound:
    return not_found("thread", thread_id, "thread_id")


def message_not_found(message_id: str) -> NotFound:
    return not_found("message", message_id, "message_id")


def _now() -> int:
    return int(time.time())


# Threads


async def create_thread(ctx: Context, caller: Caller, request: CreateThread) -> Answer:
    created_at = _now()
    while True:
        thread_id = ev.new_thread_id()
        new_events = [
            ev.thread_created(thread_id, created_at, request.metadata, request.tool_resources)
        ]
        new_events += [
            ev.message_created(thread_id, ev.new_message_id(), created_at, message)
            for message in request.messages or ()
        ]
        try:
            appended, replay = await append_events(
                ctx, caller, thread_id, new_events, new_category=ev.CATEGORY
            )
            break
        except StreamIdTaken:
            continue  # a 143-bit random id collided: draw another
    if replay is not None:
        first = replay[0]
        return Answer(render_thread(thread_state(first.data, caller.project, 1), caller.shape))
    assert appended is not None
    done = await projected(ctx, appended, "create_thread")
    state = thread_state(new_events[0].data, caller.project, appended.last_version)
    return Answer(render_thread(state, caller.shape), done)


async def _current_thread(
    ctx: Context, caller: Caller, thread_id: str, operation: str, *, replica: bool = False
) -> tuple[Read, bool]:
    read, done = await fresh(
        ctx,
        lambda pool: views.thread(pool, caller.project, thread_id),
        caller.project,
        thread_id,
        operation,
        not_found=thread_not_found(thread_id),
        kind="thread",
        replica=replica,
    )
    if read.row is None:
        raise Unavailable("The thread is still being written. Please retry.")
    return read, done


async def retrieve_thread(ctx: Context, caller: Caller, thread_id: str) -> Answer:
    read, done = await _current_thread(ctx, caller, thread_id, "retrieve_thread", replica=True)
    return Answer(render_thread(read.row, caller.shape), done)


async def modify_thread(
    ctx: Context, caller: Caller, thread_id: str, request: ModifyThread
) -> Answer:
    def change(thread: dict[str, Any]) -> NewEvent:
        if "metadata" in request.model_fields_set:
            thread["metadata"] = updated_metadata(thread["metadata"], request.metadata)
        if "tool_resources" in request.model_fields_set:
            thread["tool_resources"] = ev.dump_tool_resources(request.tool_resources)
        return ev.thread_modified(thread)

    async def load() -> Read:
        read, _ = await _current_thread(ctx, caller, thread_id, "modify_thread")
        return read

    return await decide_and_append(
        ctx,
        caller,
        thread_id,
        "modify_thread",
        load,
        change,
        lambda thread: render_thread(thread, caller.shape),
        not_found=thread_not_found(thread_id),
        kind="thread",
    )


async def delete_thread(ctx: Context, caller: Caller, thread_id: str) -> Answer:
    deleted = render_deleted(thread_id, "thread.deleted")
    if await earlier_attempt(ctx, caller) is not None:
        return Answer(deleted)
    appended, replay = await append_events(
        ctx, caller, thread_id, [ev.thread_deleted(thread_id)], delete=True
    )
    if appended is None and replay is None:
        # Gone: perhaps by a retry of this very request that landed first.
        return await answered_meanwhile(
            ctx, caller, lambda _data: deleted, thread_not_found(thread_id)
        )
    # The stream head says "deleted" from this commit on, so every reader answers 404 at once,
    # whatever the projector's progress.
    return Answer(deleted)


# Messages


async def create_message(
    ctx: Context, caller: Caller, thread_id: str, request: CreateMessage
) -> Answer:
    event = ev.message_created(thread_id, ev.new_message_id(), _now(), request)
    appended, replay = await append_events(ctx, caller, thread_id, [event])
    if replay is not None:
        first = replay[0]
        return Answer(render_message(message_state(first.data, first.version), caller.shape))
    if appended is None:
        raise thread_not_found(thread_id)
    done = await projected(ctx, appended, "create_message")
    state = message_state(event.data, appended.last_version)
    return Answer(render_message(state, caller.shape), done)


async def _current_message(
    ctx: Context,
    caller: Caller,
    thread_id: str,
    message_id: str,
    operation: str,
    *,
    replica: bool = False,
) -> tuple[Read, bool]:
    read, done = await fresh(
        ctx,
        lambda pool: views.message(pool, caller.project, thread_id, message_id),
        caller.project,
        thread_id,
        operation,
        not_found=thread_not_found(thread_id),
        kind="thread",
        replica=replica,
    )
    if read.row is None:
        raise message_not_found(message_id)
    return read, done


async def retrieve_message(ctx: Context, caller: Caller, thread_id: str, message_id: str) -> Answer:
    read, done = await _current_message(
        ctx, caller, thread_id, message_id, "retrieve_message", replica=True
    )
    return Answer(render_message(read.row, caller.shape), done)


async def modify_message(
    ctx: Context, caller: Caller, thread_id: str, message_id: str, request: ModifyMessage
) -> Answer:
    def change(message: dict[str, Any]) -> NewEvent:
        if "metadata" in request.model_fields_set:
            message["metadata"] = updated_metadata(message["metadata"], request.metadata)
        return ev.message_modified(message)

    async def load() -> Read:
        read, _ = await _current_message(ctx, caller, thread_id, message_id, "modify_message")
        return read

    return await decide_and_append(
        ctx,
        caller,
        thread_id,
        "modify_message",
        load,
        change,
        lambda data: render_message(message_state(data), caller.shape),
        not_found=thread_not_found(thread_id),
        kind="thread",
    )


async def delete_message(ctx: Context, caller: Caller, thread_id: str, message_id: str) -> Answer:
    async def load() -> Read:
        read, _ = await _current_message(ctx, caller, thread_id, message_id, "delete_message")
        return read

    return await decide_and_append(
        ctx,
        caller,
        thread_id,
        "delete_message",
        load,
        ev.message_deleted,
        lambda _data: render_deleted(message_id, "thread.message.deleted"),
        not_found=thread_not_found(thread_id),
        kind="thread",
        # Reads of the message wait for the projector to pass the deletion themselves.
        wait=False,
    )


async def list_messages(
    ctx: Context, caller: Caller, thread_id: str, q: ListQuery, run_id: str | None = None
) -> Answer:
    plan = plan_page(q)
    page, done = await fresh(
        ctx,
        lambda pool: views.messages_page(
            pool,
            caller.project,
            thread_id,
            direction=plan.direction,
            lower_id=plan.lower_id,
            upper_id=plan.upper_id,
            limit=q.limit + 1,
            run_id=run_id,
        ),
        caller.project,
        thread_id,
        "list_messages",
        not_found=thread_not_found(thread_id),
        kind="thread",
        replica=True,
    )
    after_position, before_position = (
        (page.lower_position, page.upper_position)
        if q.order == "asc"
        else (page.upper_position, page.lower_position)
    )
    of_thread = f"a message of thread '{thread_id}'"
    if q.after is not None and after_position is None:
        raise cursor_not_in("after", q.after, of_thread)
    if q.before is not None and before_position is None:
        raise cursor_not_in("before", q.before, of_thread)
    rows = page.rows[: q.limit]
    if plan.reverse:
        rows.reverse()
    return Answer(render_page(rows, len(page.rows) > q.limit, caller.shape), done)


async def list_message_files(
    ctx: Context, caller: Caller, thread_id: str, message_id: str
) -> Answer:
    """Azure v1: the files attached to a message (all of them: a message has at most 10)."""
    read, done = await _current_message(
        ctx, caller, thread_id, message_id, "list_files", replica=True
    )
    files = [render_message_file(read.row, a["file_id"]) for a in read.row["attachments"]]
    return Answer(render_list(files, has_more=False), done)


async def retrieve_message_file(
    ctx: Context, caller: Caller, thread_id: str, message_id: str, file_id: str
) -> Answer:
    read, done = await _current_message(
        ctx, caller, thread_id, message_id, "retrieve_file", replica=True
    )
    if all(a["file_id"] != file_id for a in read.row["attachments"]):
        raise NotFound(
            f"No file found with id '{file_id}' in message '{message_id}'.", param="file_id"
        )
    return Answer(render_message_file(read.row, file_id), done)
