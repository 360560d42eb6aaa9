"""Older event shapes read as today's (eventlog/upcasting.py, with the upcaster the threads
resource registers): as a row comes out of the log, never written back."""

import uuid

import service.resources  # noqa: F401  (registers the threads resource and its upcaster)
from eventlog.events import LoggedEvent
from eventlog.upcasting import upcast
from service.threads import events as ev
from service.threads.upcasting import message_file_ids_to_attachments

from ..helpers import RECORDED_AT

# A MessageCreated as the first version of the service wrote it: v1 `file_ids`.
OLD_MESSAGE = {
    "id": "msg_fromtheoldays",
    "thread_id": "thread_old",
    "created_at": 1700000000,
    "role": "user",
    "content": [{"type": "text", "text": {"value": "old", "annotations": []}}],
    "file_ids": ["file-old", "file-older"],
    "metadata": {},
    "assistant_id": None,
    "run_id": None,
}


def _row(type: str, data: dict) -> dict:
    """A row of the events table, as asyncpg would hand it out (any mapping does)."""
    return {
        "global_position": 12,
        "transaction_id": 34,
        "stream_id": "thread_old",
        "category": "thread",
        "version": 2,
        "event_id": uuid.UUID("7d3a3f0c-54a4-4d8e-9f59-1b5b2f8a9e10"),
        "type": type,
        "data": data,
        "metadata": {"project": "p"},
        "recorded_at": RECORDED_AT,
    }


def test_a_message_with_file_ids_reads_with_attachments():
    event = LoggedEvent.from_log(_row(ev.MESSAGE_CREATED, OLD_MESSAGE))
    assert event.data["attachments"] == [
        {"file_id": "file-old", "tools": []},
        {"file_id": "file-older", "tools": []},
    ]
    assert "file_ids" not in event.data
    assert {k: v for k, v in event.data.items() if k != "attachments"} == {
        k: v for k, v in OLD_MESSAGE.items() if k != "file_ids"
    }
    # The rest of the row is as it was.
    assert (event.stream_id, event.category, event.version) == ("thread_old", "thread", 2)
    assert (event.position, event.project, event.recorded_at) == ("34-12", "p", RECORDED_AT)
    # The row itself is left alone: the log is never rewritten.
    assert (
        OLD_MESSAGE["file_ids"] == ["file-old", "file-older"] and "attachments" not in OLD_MESSAGE
    )


def test_todays_shape_passes_unchanged():
    today = {**OLD_MESSAGE, "attachments": [{"file_id": "f", "tools": [{"type": "file_search"}]}]}
    del today["file_ids"]
    assert LoggedEvent.from_log(_row(ev.MESSAGE_CREATED, today)).data == today
    # Upcasting what is already upcast changes nothing.
    once = upcast(ev.MESSAGE_CREATED, OLD_MESSAGE)
    assert upcast(ev.MESSAGE_CREATED, once) == once


def test_only_message_created_is_upcast():
    data = {"id": "thread_old", "file_ids": ["f"]}
    assert LoggedEvent.from_log(_row(ev.THREAD_CREATED, data)).data == data
    assert upcast("SomethingNewer", data) is data


def test_the_upcaster_alone():
    assert message_file_ids_to_attachments({"file_ids": []}) == {"attachments": []}
    both = {"file_ids": ["a"], "attachments": [{"file_id": "b", "tools": []}]}
    assert message_file_ids_to_attachments(both) is both
