"""The threads resource as the log's kernel sees it: its event types, how each renders for
subscribers, and its two projections (thread_view, message_view), registered in
service/resources.py.

Each projection folds a batch of events to each row's final state, so that its SQL function
(sql/threads/functions/) writes the batch in bulk: upserts, deletions, and for the thread view
each touched thread's new version, which readers wait on for read-your-writes.
"""

from typing import Any

from eventlog.events import LoggedEvent
from eventlog.registry import EventType, Projection, Resource

from ..domain.render import render_deleted
from . import events as ev
from .render import render_message, render_thread
from .state import message_state, thread_state
from .upcasting import message_file_ids_to_attachments


def fold_thread_view(events: list[LoggedEvent]) -> dict[str, Any]:
    threads: dict[str, dict[str, Any]] = {}
    deleted: set[str] = set()
    versions: dict[str, int] = {}
    for event in events:
        if event.type in (ev.THREAD_CREATED, ev.THREAD_MODIFIED):
            threads[event.stream_id] = thread_state(event.data, event.project, event.version)
        elif event.type == ev.THREAD_DELETED:
            deleted.add(event.stream_id)
            threads.pop(event.stream_id, None)
        versions[event.stream_id] = event.version
    return {
        "upserts": list(threads.values()),
        "deleted": sorted(deleted),
        "versions": [{"id": i, "version": v} for i, v in versions.items()],
    }


def fold_message_view(events: list[LoggedEvent]) -> dict[str, Any]:
    messages: dict[tuple[str, int], dict[str, Any]] = {}
    deleted: set[tuple[str, int]] = set()
    deleted_threads: set[str] = set()
    for event in events:
        if event.type in (ev.MESSAGE_CREATED, ev.MESSAGE_MODIFIED):
            state = message_state(event.data, event.version)
            messages[(event.stream_id, state["position"])] = state
        elif event.type == ev.MESSAGE_DELETED:
            key = (event.stream_id, event.data["position"])
            messages.pop(key, None)
            deleted.add(key)
        elif event.type == ev.THREAD_DELETED:
            deleted_threads.add(event.stream_id)
            for key in [k for k in messages if k[0] == event.stream_id]:
                del messages[key]
    return {
        "upserts": list(messages.values()),
        "deleted": [{"thread_id": t, "position": p} for t, p in sorted(deleted)],
        "deleted_threads": sorted(deleted_threads),
    }


def _thread(event: LoggedEvent) -> dict[str, Any]:
    return render_thread(thread_state(event.data, event.project, event.version))


def _message(event: LoggedEvent) -> dict[str, Any]:
    return render_message(message_state(event.data, event.version))


def _deleted(kind: str):
    return lambda event: render_deleted(event.data["id"], kind)


_RENDER = {
    ev.THREAD_CREATED: _thread,
    ev.THREAD_MODIFIED: _thread,
    ev.THREAD_DELETED: _deleted("thread.deleted"),
    ev.MESSAGE_CREATED: _message,
    ev.MESSAGE_MODIFIED: _message,
    ev.MESSAGE_DELETED: _deleted("thread.message.deleted"),
}

RESOURCE = Resource(
    category=ev.CATEGORY,
    event_types=tuple(
        EventType(name, ev.EVENT_NAMES[name], render) for name, render in _RENDER.items()
    ),
    projections=(
        Projection(
            view="thread_view",
            function="threadlog_apply_thread_view",
            event_types=frozenset(_RENDER),
            fold=fold_thread_view,
            versions_of=ev.CATEGORY,
        ),
        Projection(
            view="message_view",
            function="threadlog_apply_message_view",
            event_types=frozenset(
                {ev.MESSAGE_CREATED, ev.MESSAGE_MODIFIED, ev.MESSAGE_DELETED, ev.THREAD_DELETED}
            ),
            fold=fold_message_view,
        ),
    ),
    upcasters={ev.MESSAGE_CREATED: (message_file_ids_to_attachments,)},
)
