"""Request bodies (service/domain/requests.py with the threads' models): what parses, and the
OpenAI-style error of what does not, naming the parameter path the client sent."""

import json

import pytest

from service.domain.errors import InvalidRequest
from service.domain.requests import METADATA_MAX_PAIRS, parse_body
from service.threads import events as ev
from service.threads.requests import (
    Attachment,
    CreateMessage,
    CreateMessageV1,
    CreateThread,
    CreateThreadV1,
    ImageUrlPart,
    ModifyMessage,
    ModifyThread,
    ModifyThreadV1,
    TextPart,
)


def _body(**fields) -> bytes:
    return json.dumps(fields).encode()


def _message(**changes) -> bytes:
    return _body(**{"role": "user", "content": "hello", **changes})


def _refused(model, body: bytes) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as refused:
        parse_body(model, body)
    assert refused.value.status == 400
    assert refused.value.type == "invalid_request_error"
    return refused.value


def test_a_message_with_a_string_content():
    message = parse_body(CreateMessage, _message(metadata={"k": "v"}))
    assert (message.role, message.content, message.metadata) == ("user", "hello", {"k": "v"})
    assert message.attachments is None


def test_a_message_with_content_parts_and_attachments():
    message = parse_body(
        CreateMessage,
        _message(
            role="assistant",
            content=[
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
                {"type": "image_file", "image_file": {"file_id": "file-1"}},
            ],
            attachments=[{"file_id": "file-2", "tools": [{"type": "file_search"}]}],
        ),
    )
    assert message.role == "assistant"
    text, image, _ = message.content
    assert isinstance(text, TextPart) and text.text == "look"
    assert isinstance(image, ImageUrlPart) and image.image_url.detail == "low"
    assert message.attachments[0].file_id == "file-2"
    assert message.attachments[0].tools[0].type == "file_search"


def test_a_thread_with_messages_and_tool_resources():
    thread = parse_body(
        CreateThread,
        _body(
            messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
            tool_resources={"code_interpreter": {"file_ids": ["file-1"]}},
            metadata={"k": "v"},
        ),
    )
    assert [m.content for m in thread.messages] == ["a", "b"]
    assert thread.tool_resources.code_interpreter.file_ids == ["file-1"]
    assert thread.tool_resources.file_search is None


@pytest.mark.parametrize("body", [b"", b"{}"])
def test_an_empty_body_is_an_empty_object(body):
    thread = parse_body(CreateThread, body)
    assert (thread.messages, thread.metadata, thread.tool_resources) == (None, None, None)
    assert thread.model_fields_set == set()


def test_metadata_sent_as_null_is_told_from_metadata_left_out():
    cleared = parse_body(ModifyThread, b'{"metadata": null}')
    assert cleared.metadata is None and "metadata" in cleared.model_fields_set
    assert "metadata" not in parse_body(ModifyMessage, b"{}").model_fields_set


def test_sixteen_metadata_pairs_are_allowed():
    pairs = {f"k{i}": "v" for i in range(METADATA_MAX_PAIRS)}
    assert parse_body(ModifyThread, _body(metadata=pairs)).metadata == pairs


@pytest.mark.parametrize(
    ("model", "body", "param", "code"),
    [
        # Unknown fields, at the top and nested.
        (CreateMessage, _message(colour="red"), "colour", "unknown_parameter"),
        (
            CreateMessage,
            _message(content=[{"type": "text", "text": "x", "extra": 1}]),
            "content[0].extra",
            "unknown_parameter",
        ),
        (
            CreateThread,
            _body(tool_resources={"retrieval": {}}),
            "tool_resources.retrieval",
            "unknown_parameter",
        ),
        # Wrong types: no coercion.
        (
            CreateMessage,
            _message(content=[{"type": "text", "text": 5}]),
            "content[0].text",
            "invalid_type",
        ),
        (CreateMessage, _message(content=5), "content", "invalid_type"),
        (CreateMessage, _message(content=[5]), "content[0]", "invalid_type"),
        (CreateMessage, _message(metadata={"k": 1}), "metadata.k", "invalid_type"),
        (CreateThread, _body(metadata="x"), "metadata", "invalid_type"),
        (
            CreateThread,
            _body(messages=[{"role": "user", "content": [{"type": "text", "text": 7}]}]),
            "messages[0].content[0].text",
            "invalid_type",
        ),
        (
            CreateThread,
            _body(tool_resources={"code_interpreter": {"file_ids": [1]}}),
            "tool_resources.code_interpreter.file_ids[0]",
            "invalid_type",
        ),
        # Missing fields and values out of their set.
        (CreateMessage, _body(content="x"), "role", "missing_required_parameter"),
        (
            CreateMessage,
            _message(content=[{"type": "text"}]),
            "content[0].text",
            "missing_required_parameter",
        ),
        (
            CreateMessage,
            _message(content=[{"text": "x"}]),
            "content[0].type",
            "missing_required_parameter",
        ),
        (CreateMessage, _message(content=[{"type": "video"}]), "content[0].type", "invalid_value"),
        (CreateMessage, _message(role="system"), "role", "invalid_value"),
        (
            CreateMessage,
            _message(attachments=[{"file_id": "f", "tools": [{"type": "magic"}]}]),
            "attachments[0].tools[0].type",
            "invalid_value",
        ),
        (
            CreateMessage,
            _message(
                content=[
                    {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "max"}}
                ]
            ),
            "content[0].image_url.detail",
            "invalid_value",
        ),
        # Lengths.
        (
            CreateMessage,
            _message(content=[{"type": "text", "text": ""}]),
            "content[0].text",
            "string_below_min_length",
        ),
        (CreateMessage, _message(content=[]), "content", "empty_array"),
        (CreateMessage, _message(content="x" * 256_001), "content", "string_above_max_length"),
        (
            CreateThread,
            _body(tool_resources={"file_search": {"vector_store_ids": ["a", "b"]}}),
            "tool_resources.file_search.vector_store_ids",
            "array_above_max_length",
        ),
        # Metadata limits: 16 pairs, keys of 64 characters, values of 512.
        (
            ModifyThread,
            _body(metadata={f"k{i}": "v" for i in range(METADATA_MAX_PAIRS + 1)}),
            "metadata",
            "object_above_max_properties",
        ),
        (ModifyThread, _body(metadata={"k" * 65: "v"}), "metadata", "string_above_max_length"),
        (ModifyThread, _body(metadata={"k": "v" * 513}), "metadata.k", "string_above_max_length"),
        # U+0000, which Postgres cannot store.
        (CreateMessage, _message(content="a\x00b"), "content", "invalid_value"),
        (CreateMessage, _message(metadata={"k": "a\x00"}), "metadata.k", "invalid_value"),
    ],
)
def test_errors_name_the_parameter_path(model, body, param, code):
    error = _refused(model, body)
    assert (error.param, error.code) == (param, code)


def test_the_messages_of_the_errors():
    assert _refused(CreateMessage, _message(colour="red")).message == (
        "Unrecognized request argument supplied: colour"
    )
    assert _refused(CreateMessage, _message(content=[{"type": "text", "text": 5}])).message == (
        "Invalid type for 'content[0].text': expected a string, but got an integer instead."
    )
    assert _refused(CreateMessage, _message(content=[{"type": "video"}])).message == (
        "Invalid value: 'video'. Supported values are: 'text', 'image_file', 'image_url'."
    )
    too_many = _refused(ModifyThread, _body(metadata={f"k{i}": "v" for i in range(17)}))
    assert "at most 16 properties" in too_many.message
    assert "got an object with 17 properties" in too_many.message
    long_key = _refused(ModifyThread, _body(metadata={"k" * 65: "v"}))
    assert "maximum length 64" in long_key.message and "length 65" in long_key.message
    assert "null character (U+0000)" in _refused(CreateMessage, _message(content="\x00")).message


def test_a_body_that_is_not_json():
    error = _refused(CreateThread, b"{not json")
    assert error.message.startswith("We could not parse the JSON body of your request.")
    assert (error.param, error.code) == (None, None)


@pytest.mark.parametrize(("body", "got"), [(b"[]", "an array"), (b'"x"', "a string")])
def test_a_body_that_is_not_an_object(body, got):
    error = _refused(CreateThread, body)
    assert error.message == f"Invalid body: expected an object, but got {got} instead."
    assert (error.param, error.code) == (None, "invalid_type")


def test_v1_models_refuse_the_v2_shape():
    assert _refused(CreateMessageV1, _message(role="assistant")).param == "role"
    assert _refused(CreateMessageV1, _message(attachments=[])).code == "unknown_parameter"
    assert _refused(CreateMessageV1, _message(file_ids=[])).code == "empty_array"
    assert _refused(CreateMessageV1, _message(content="x" * 32_769)).param == "content"
    assert _refused(ModifyThreadV1, _body(tool_resources={})).code == "unknown_parameter"


def test_a_v1_message_as_v2_has_its_files_as_attachments_without_tools():
    v1 = parse_body(CreateMessageV1, _message(file_ids=["file-1", "file-2"], metadata={"k": "v"}))
    v2 = v1.as_v2()
    assert isinstance(v2, CreateMessage)
    assert (v2.role, v2.content, v2.metadata) == ("user", "hello", {"k": "v"})
    assert v2.attachments == [
        Attachment.model_construct(file_id="file-1", tools=[]),
        Attachment.model_construct(file_id="file-2", tools=[]),
    ]
    # What the log stores of it is what a v2 request with those attachments stores.
    stored = ev.message_created("thread_x", "msg_x", 1, v2).data
    assert stored["attachments"] == [
        {"file_id": "file-1", "tools": []},
        {"file_id": "file-2", "tools": []},
    ]
    assert parse_body(CreateMessageV1, _message()).as_v2().attachments == []


def test_a_v1_thread_as_v2():
    v1 = parse_body(
        CreateThreadV1,
        _body(messages=[{"role": "user", "content": "a", "file_ids": ["f"]}], metadata={"k": "v"}),
    )
    v2 = v1.as_v2()
    assert isinstance(v2, CreateThread)
    assert v2.metadata == {"k": "v"} and v2.tool_resources is None
    assert [(m.content, [a.file_id for a in m.attachments]) for m in v2.messages] == [("a", ["f"])]
    assert parse_body(CreateThreadV1, b"").as_v2().messages == []

    modified = parse_body(ModifyThreadV1, _body(metadata={"k": "w"})).as_v2()
    assert isinstance(modified, ModifyThread)
    assert (modified.metadata, modified.tool_resources) == ({"k": "w"}, None)
