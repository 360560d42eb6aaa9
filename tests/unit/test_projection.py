"""The threads' projections (service/threads/projection.py): a batch of events folded to what
its SQL functions write, and the projector's one statement that writes it
(projections/projector.py), here without a database."""

import pytest

import service.resources  # noqa: F401  (registers the threads resource)
from eventlog.positions import LogPosition
from eventlog.registry import Projection, projections
from projections.projector import _statement, apply_to_views
from service.threads import events as ev
from service.threads.projection import RESOURCE, fold_message_view, fold_thread_view
from service.threads.requests import CreateMessage, ToolResources
from service.threads.state import message_state, thread_state

from ..helpers import logged

T1, T2 = "thread_one", "thread_two"


def _thread_created(thread: str, version: int = 1, **metadata: str):
    tools = ToolResources.model_validate({"code_interpreter": {"file_ids": ["file-1"]}})
    data = ev.thread_created(thread, 1700000000, metadata, tools).data
    return logged(ev.THREAD_CREATED, data, stream_id=thread, version=version, project="proj")


def _thread_modified(created, version: int, **metadata: str):
    data = ev.thread_modified({**created.data, "metadata": metadata}).data
    return logged(
        ev.THREAD_MODIFIED, data, stream_id=created.stream_id, version=version, project="proj"
    )


def _message_created(thread: str, message: str, version: int, text: str = "hi"):
    request = CreateMessage(role="user", content=text)
    data = ev.message_created(thread, message, 1700000001, request).data
    return logged(ev.MESSAGE_CREATED, data, stream_id=thread, version=version, project="proj")


def _message_modified(created, version: int, **metadata: str):
    state = message_state(created.data, created.version)
    data = ev.message_modified({**state, "metadata": metadata}).data
    return logged(ev.MESSAGE_MODIFIED, data, stream_id=created.stream_id, version=version)


def _message_deleted(created, version: int):
    data = ev.message_deleted(message_state(created.data, created.version)).data
    return logged(ev.MESSAGE_DELETED, data, stream_id=created.stream_id, version=version)


def _thread_deleted(thread: str, version: int):
    return logged(
        ev.THREAD_DELETED, ev.thread_deleted(thread).data, stream_id=thread, version=version
    )


def test_a_created_then_modified_thread_folds_to_its_last_state():
    created = _thread_created(T1, a="1")
    modified = _thread_modified(created, 2, a="2")
    again = _thread_modified(created, 3, b="3")
    changes = fold_thread_view([created, modified, again])
    assert changes == {
        "upserts": [
            {
                "id": T1,
                "project": "proj",
                "created_at": 1700000000,
                "metadata": {"b": "3"},
                "tool_resources": {"code_interpreter": {"file_ids": ["file-1"]}},
                "version": 3,
            }
        ],
        "deleted": [],
        "versions": [{"id": T1, "version": 3}],
    }


def test_a_deleted_thread_leaves_the_upserts_and_every_touched_stream_keeps_its_last_version():
    one = _thread_created(T1)
    two = _thread_created(T2)
    batch = [
        one,
        two,
        _message_created(T1, "msg_a", 2),
        _thread_modified(two, 2, k="v"),
        _message_created(T2, "msg_b", 3),
        _thread_deleted(T2, 4),
    ]
    changes = fold_thread_view(batch)
    assert changes["upserts"] == [thread_state(one.data, "proj", 1)]
    assert changes["deleted"] == [T2]
    # A message's event moves its thread's version too: readers wait on it.
    assert changes["versions"] == [{"id": T1, "version": 2}, {"id": T2, "version": 4}]


def test_an_empty_batch_changes_nothing():
    assert fold_thread_view([]) == {"upserts": [], "deleted": [], "versions": []}
    assert fold_message_view([]) == {"upserts": [], "deleted": [], "deleted_threads": []}


def test_messages_fold_to_their_last_state_and_a_deleted_one_is_listed_by_position():
    first = _message_created(T1, "msg_a", 2, "first")
    second = _message_created(T1, "msg_b", 3, "second")
    batch = [first, second, _message_modified(first, 4, k="v"), _message_deleted(second, 5)]
    changes = fold_message_view(batch)
    (upsert,) = changes["upserts"]
    assert upsert == {**message_state(first.data, 2), "metadata": {"k": "v"}}
    assert (upsert["id"], upsert["position"], upsert["thread_id"]) == ("msg_a", 2, T1)
    assert upsert["content"] == [{"type": "text", "text": {"value": "first", "annotations": []}}]
    assert changes["deleted"] == [{"thread_id": T1, "position": 3}]
    assert changes["deleted_threads"] == []


def test_a_deleted_thread_takes_its_messages_out_of_the_upserts():
    batch = [
        _message_created(T1, "msg_a", 2),
        _message_created(T2, "msg_b", 2),
        _message_created(T2, "msg_c", 3),
        _thread_deleted(T2, 4),
    ]
    changes = fold_message_view(batch)
    assert [m["id"] for m in changes["upserts"]] == ["msg_a"]
    assert changes["deleted_threads"] == [T2]
    assert changes["deleted"] == []


def test_a_message_deleted_in_an_earlier_batch_is_still_deleted():
    created = _message_created(T1, "msg_a", 2)
    changes = fold_message_view([_message_deleted(created, 7)])
    assert changes == {
        "upserts": [],
        "deleted": [{"thread_id": T1, "position": 2}],
        "deleted_threads": [],
    }


def test_the_registered_projections():
    views = {p.view: p for p in projections()}
    assert tuple(views.values())[:2] == RESOURCE.projections
    assert [p.view for p in RESOURCE.projections] == ["thread_view", "message_view"]
    assert views["thread_view"].function == "threadlog_apply_thread_view"
    assert views["thread_view"].fold is fold_thread_view
    assert views["message_view"].fold is fold_message_view
    assert views["message_view"].event_types == {
        ev.MESSAGE_CREATED,
        ev.MESSAGE_MODIFIED,
        ev.MESSAGE_DELETED,
        ev.THREAD_DELETED,
    }
    assert set(ev.EVENT_NAMES) <= views["thread_view"].event_types


def _fold(events):
    return {"events": len(events)}


def _views(count: int) -> tuple[Projection, ...]:
    return tuple(
        Projection(f"view_{n}", f"apply_view_{n}", frozenset({"X"}), _fold)
        for n in range(1, count + 1)
    )


def test_the_statement_calls_each_view_and_then_moves_the_checkpoint():
    assert _statement(RESOURCE.projections, True) == (
        "select threadlog_apply_thread_view($1::jsonb), threadlog_apply_message_view($2::jsonb), "
        "threadlog_mark_projected($3, $4, $5)"
    )
    assert _statement(RESOURCE.projections, False) == (
        "select threadlog_apply_thread_view($1::jsonb), threadlog_apply_message_view($2::jsonb)"
    )


@pytest.mark.parametrize("count", [1, 3])
def test_the_statement_numbers_its_parameters_after_the_views(count):
    calls = ", ".join(f"apply_view_{n}(${n}::jsonb)" for n in range(1, count + 1))
    assert _statement(_views(count), False) == f"select {calls}"
    mark = f"threadlog_mark_projected(${count + 1}, ${count + 2}, ${count + 3})"
    assert _statement(_views(count), True) == f"select {calls}, {mark}"


class _Connection:
    def __init__(self) -> None:
        self.executed: list[tuple] = []

    async def execute(self, sql: str, *args: object) -> None:
        self.executed.append((sql, *args))


async def test_a_batch_is_one_statement_with_each_views_changes_and_the_checkpoint():
    created = _thread_created(T1)
    message = _message_created(T1, "msg_a", 2)
    conn = _Connection()
    await apply_to_views(conn, [created, message], ("projector", LogPosition(7, 9)))
    ((sql, thread_changes, message_changes, *checkpoint),) = conn.executed
    assert sql == _statement(projections(), True)
    assert thread_changes == fold_thread_view([created, message])
    assert message_changes == fold_message_view([message])
    assert checkpoint == ["projector", "7", 9]

    replay = _Connection()
    await apply_to_views(replay, [created])
    ((sql, *changes),) = replay.executed
    assert sql == _statement(projections(), False)
    assert changes == [fold_thread_view([created]), fold_message_view([])]
