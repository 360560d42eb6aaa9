"""Response objects (service/threads/render.py, service/domain/render.py) in both shapes: v2
(OpenAI's, with attachments and tool resources) and Azure's v1 (with file ids)."""

from service.domain.render import render_deleted, render_list
from service.threads import events as ev
from service.threads.render import (
    render_message,
    render_message_file,
    render_page,
    render_thread,
)
from service.threads.requests import CreateMessage
from service.threads.state import message_state, thread_state

REQUEST = CreateMessage.model_validate(
    {
        "role": "user",
        "content": "hello",
        "attachments": [
            {"file_id": "file-1", "tools": [{"type": "code_interpreter"}]},
            {"file_id": "file-2", "tools": []},
        ],
        "metadata": {"k": "v"},
    }
)
MESSAGE = message_state(ev.message_created("thread_x", "msg_x", 1700000000, REQUEST).data, 2)
THREAD = thread_state(
    {"id": "thread_x", "created_at": 1700000000, "metadata": {}, "tool_resources": {}}, "p", 3
)


def test_a_v2_message():
    assert render_message(MESSAGE) == render_message(MESSAGE, "v2")
    assert render_message(MESSAGE) == {
        "id": "msg_x",
        "object": "thread.message",
        "created_at": 1700000000,
        "assistant_id": None,
        "thread_id": "thread_x",
        "run_id": None,
        "role": "user",
        "content": [{"type": "text", "text": {"value": "hello", "annotations": []}}],
        "attachments": [
            {"file_id": "file-1", "tools": [{"type": "code_interpreter"}]},
            {"file_id": "file-2", "tools": []},
        ],
        "metadata": {"k": "v"},
        "status": "completed",
        "incomplete_details": None,
        "completed_at": None,
        "incomplete_at": None,
    }


def test_a_v1_message_has_its_attachments_as_file_ids():
    assert render_message(MESSAGE, "v1") == {
        "id": "msg_x",
        "object": "thread.message",
        "created_at": 1700000000,
        "thread_id": "thread_x",
        "role": "user",
        "content": [{"type": "text", "text": {"value": "hello", "annotations": []}}],
        "assistant_id": None,
        "run_id": None,
        "file_ids": ["file-1", "file-2"],
        "metadata": {"k": "v"},
    }


def test_a_thread_in_both_shapes():
    assert render_thread(THREAD) == {
        "id": "thread_x",
        "object": "thread",
        "created_at": 1700000000,
        "metadata": {},
        "tool_resources": {},
    }
    v1 = render_thread(THREAD, "v1")
    assert "tool_resources" not in v1
    assert v1 == {"id": "thread_x", "object": "thread", "created_at": 1700000000, "metadata": {}}
    # State the views keep (project, version) never reaches a response.
    assert "project" not in render_thread(THREAD) and "version" not in render_thread(THREAD)


def test_a_page_and_an_empty_list():
    other = {**MESSAGE, "id": "msg_y", "position": 3}
    page = render_page([MESSAGE, other], True, "v1")
    assert (page["object"], page["first_id"], page["last_id"], page["has_more"]) == (
        "list",
        "msg_x",
        "msg_y",
        True,
    )
    assert page["data"] == [render_message(MESSAGE, "v1"), render_message(other, "v1")]
    assert render_list([], False) == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


def test_deletions_and_message_files():
    assert render_deleted("thread_x", "thread.deleted") == {
        "id": "thread_x",
        "object": "thread.deleted",
        "deleted": True,
    }
    assert render_message_file(MESSAGE, "file-2") == {
        "id": "file-2",
        "object": "thread.message.file",
        "created_at": 1700000000,
        "message_id": "msg_x",
    }
