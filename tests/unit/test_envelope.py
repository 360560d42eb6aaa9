"""The envelope the relay publishes (projections/envelope.py, schema 2), and how a subscriber
reads an entry back, of schema 2 or of schema 1."""

import datetime
import uuid

import orjson

import service.resources  # noqa: F401  (registers the threads resource)
from projections.envelope import SCHEMA_VERSION, StreamEvent, envelope
from service.threads import events as ev
from service.threads.render import render_message, render_thread
from service.threads.requests import CreateMessage
from service.threads.state import message_state, thread_state

from ..helpers import RECORDED_AT, envelope_entry, logged

EVENT_ID = uuid.UUID("0b7f1f3a-2e10-4c8e-9a55-6f1d8e0a3c57")


def _thread_created():
    data = ev.thread_created("thread_x", 1700000000, {"k": "v"}, None).data
    return logged(ev.THREAD_CREATED, data, version=1, at=(41, 7), event_id=EVENT_ID, project="pr")


def test_a_threads_event_in_the_envelope():
    event = _thread_created()
    fields = envelope(event)
    assert all(isinstance(v, bytes) for v in fields.values()), "encoded once, for both streams"
    text = {name: value.decode() for name, value in fields.items()}
    data = orjson.loads(text.pop("data"))
    assert text == {
        "event_id": str(EVENT_ID),
        "type": "ThreadCreated",
        "event": "thread.created",
        "stream_id": "thread_x",
        "category": "thread",
        "thread_id": "thread_x",
        "version": "1",
        "position": "41-7",
        "occurred_at": "2026-11-22T05:02:45.466696Z",
        "project": "pr",
        "schema": "2",
    }
    assert SCHEMA_VERSION == "2"
    assert data == render_thread(thread_state(event.data, "pr", 1))


def test_the_occurrence_is_written_in_utc():
    event = _thread_created()
    elsewhere = RECORDED_AT.astimezone(datetime.timezone(datetime.timedelta(hours=5)))
    moved = logged(event.type, event.data, at=(41, 7), event_id=EVENT_ID, project="pr")
    object.__setattr__(moved, "recorded_at", elsewhere)
    assert envelope(moved)["occurred_at"] == b"2026-11-22T05:02:45.466696Z"


def test_a_message_event_carries_the_message_as_the_api_renders_it():
    request = CreateMessage(role="user", content="hi")
    data = ev.message_created("thread_x", "msg_x", 1700000000, request).data
    fields = envelope(logged(ev.MESSAGE_CREATED, data, version=4))
    assert fields["event"] == b"thread.message.created"
    assert orjson.loads(fields["data"]) == render_message(message_state(data, 4))


def test_an_entry_read_back_is_the_event_published():
    event = _thread_created()
    read = StreamEvent.from_entry(b"41-7", envelope(event))
    assert (read.id, read.event_id, read.type, read.event) == (
        "41-7",
        EVENT_ID,
        "ThreadCreated",
        "thread.created",
    )
    assert (read.stream_id, read.category, read.thread_id) == ("thread_x", "thread", "thread_x")
    assert (read.version, read.position, read.project) == (1, "41-7", "pr")
    assert (read.schema_version, read.occurred_at) == ("2", RECORDED_AT)
    assert read.data["id"] == "thread_x"


def test_a_schema_1_entry_names_its_stream_by_its_thread():
    entry = envelope_entry("thread_old", "10-1")
    assert "stream_id" not in entry and "category" not in entry
    read = StreamEvent.from_entry("10-1", entry)
    assert (read.stream_id, read.category, read.thread_id) == ("thread_old", "thread", "thread_old")
    assert (read.schema_version, read.version, read.data) == ("1", 2, {})


def test_a_schema_2_entry_of_another_category_has_no_thread():
    fields = {
        b"event_id": str(EVENT_ID).encode(),
        b"type": b"ConversationCreated",
        b"event": b"conversation.created",
        b"stream_id": b"conv_1",
        b"category": b"conversation",
        b"version": b"1",
        b"position": b"3-4",
        b"occurred_at": b"2026-11-22T05:02:45.466696Z",
        b"project": b"p",
        b"schema": b"2",
        b"data": b'{"id": "conv_1"}',
        # A field of a later envelope: ignored.
        b"partition": b"7",
    }
    read = StreamEvent.from_entry(b"3-4", fields)
    assert (read.stream_id, read.category, read.thread_id) == ("conv_1", "conversation", None)
    assert read.data == {"id": "conv_1"}
    assert not hasattr(read, "partition")
