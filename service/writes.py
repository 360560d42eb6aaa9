"""Writes, for any resource: append (idempotently), decide from current state, answer once the
projector has the write.

Writes append events and never touch the views. A write answers once the projector has reached
it (read-your-writes), with the state its own event carries: the row the projector wrote from
that event, without a second round trip to read it back (which could also show a later writer's
change instead of this write's result). The wait is bounded: past it, a write answers all the
same, flagged. Writes that depend on current state (modify, delete) decide from the view at a
known version and append only if the stream is still at that version, deciding again if not.
"""

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from eventlog.append import Appended, DuplicateEvents, VersionConflict, append, events_by_id
from eventlog.events import LoggedEvent, NewEvent
from eventlog.positions import LogPosition

from .context import Answer, Caller, Context, Unavailable
from .domain.errors import NotFound
from .domain.idempotency import event_ids, key_reused
from .metrics import READ_YOUR_WRITES_TIMEOUTS
from .reads import Read

# How many times a modify or delete decides again when the stream moved on meanwhile.
DECIDE_ATTEMPTS = 10


async def projected(ctx: Context, appended: Appended, operation: str) -> bool:
    """Waits (bounded) for the projector to pass the append; False when the wait ran out."""
    if await ctx.projection.wait(LogPosition.of(appended), ctx.read_your_writes_timeout):
        return True
    READ_YOUR_WRITES_TIMEOUTS.labels(operation).inc()
    return False


async def append_events(
    ctx: Context,
    caller: Caller,
    stream_id: str,
    new_events: list[NewEvent],
    **options: Any,
) -> tuple[Appended | None, list[LoggedEvent] | None]:
    """Appends (options as eventlog.append.append takes them); for an idempotent retry,
    appends nothing and returns the first attempt's events."""
    ids = event_ids(caller.project, caller.idempotency_key, len(new_events))
    wake_here = ctx.consumers.all_following
    try:
        appended = await append(
            ctx.pool,
            stream_id,
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


async def _first_attempt(ctx: Context, caller: Caller, ids: list[UUID]) -> list[LoggedEvent] | None:
    """The events the first attempt of this idempotent request appended, if any; a key used
    for a different request is refused."""
    first = await events_by_id(ctx.pool, ids)
    if first and first[0].metadata.get("request_fingerprint") != caller.fingerprint:
        raise key_reused(caller.idempotency_key or "")
    return first or None


async def earlier_attempt(ctx: Context, caller: Caller) -> list[LoggedEvent] | None:
    """The events of an earlier attempt of this idempotent request, if there was one.

    Checked before deciding from current state, which the first attempt may have changed
    (a retried delete would otherwise find nothing left to delete)."""
    if caller.idempotency_key is None:
        return None
    return await _first_attempt(ctx, caller, event_ids(caller.project, caller.idempotency_key, 1))


async def answered_meanwhile(
    ctx: Context,
    caller: Caller,
    render: Callable[[dict[str, Any]], dict[str, Any]],
    not_found: NotFound,
) -> Answer:
    """For a write that found its object gone: if an attempt of this same idempotent request
    landed meanwhile (retries racing each other), its answer; else `not_found`."""
    earlier = await earlier_attempt(ctx, caller)
    if earlier is not None:
        return Answer(render(earlier[0].data))
    raise not_found


async def decide_and_append(
    ctx: Context,
    caller: Caller,
    stream_id: str,
    operation: str,
    load: Callable[[], Awaitable[Read]],
    change: Callable[[dict[str, Any]], NewEvent],
    render: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    not_found: NotFound,
    kind: str,
    wait: bool = True,
) -> Answer:
    """Decide a change from the current state (`load`'s row) and append it at that state's
    version; if the stream moved on meanwhile, decide again. The answer is `render` of the
    state the event carries, which is the view's at that version once projected (reading the
    view afterwards could show a later writer's change instead); a retried idempotent request
    gets its first result. `not_found`: the stream went away meanwhile; `kind` names it in
    errors ("thread"). `wait` False answers without waiting for the projector (a deletion,
    whose reads wait for it themselves)."""
    earlier = await earlier_attempt(ctx, caller)
    if earlier is not None:
        return Answer(render(earlier[0].data))
    for _ in range(DECIDE_ATTEMPTS):
        try:
            read = await load()
        except NotFound as gone:
            # Gone: perhaps by this very request, retried while its first attempt landed.
            return await answered_meanwhile(ctx, caller, render, gone)
        event = change(dict(read.row))
        try:
            appended, replay = await append_events(
                ctx, caller, stream_id, [event], expected_version=read.view_version
            )
        except VersionConflict:
            continue
        if replay is not None:
            return Answer(render(replay[0].data))
        if appended is None:
            return await answered_meanwhile(ctx, caller, render, not_found)
        done = await projected(ctx, appended, operation) if wait else True
        return Answer(render(event.data), done)
    raise Unavailable(f"The {kind} is changing too fast to change now. Please retry.")
