"""The threads API's HTTP handlers and routes (under /v1 and Azure's /openai alike)."""

from aiohttp import web

from ..domain.listing import one_value, parse_list_query
from ..handlers import answer, body, caller, context, path, require_shape
from ..sse import follow_stream
from . import operations, views
from .events import CATEGORY, EVENT_NAMES, THREAD_DELETED
from .requests import (
    CreateMessage,
    CreateMessageV1,
    CreateThread,
    CreateThreadV1,
    ModifyMessage,
    ModifyThread,
    ModifyThreadV1,
)


async def create_thread(request: web.Request) -> web.Response:
    who, sent = await body(request, "create_thread", CreateThread, CreateThreadV1)
    return answer(await operations.create_thread(context(request), who, sent))


async def retrieve_thread(request: web.Request) -> web.Response:
    return answer(
        await operations.retrieve_thread(
            context(request), caller(request, "retrieve_thread"), path(request, "thread_id")
        )
    )


async def modify_thread(request: web.Request) -> web.Response:
    who, sent = await body(request, "modify_thread", ModifyThread, ModifyThreadV1)
    return answer(
        await operations.modify_thread(context(request), who, path(request, "thread_id"), sent)
    )


async def delete_thread(request: web.Request) -> web.Response:
    return answer(
        await operations.delete_thread(
            context(request), caller(request, "delete_thread"), path(request, "thread_id")
        )
    )


async def create_message(request: web.Request) -> web.Response:
    who, sent = await body(request, "create_message", CreateMessage, CreateMessageV1)
    return answer(
        await operations.create_message(context(request), who, path(request, "thread_id"), sent)
    )


async def list_messages(request: web.Request) -> web.Response:
    query = parse_list_query(request.query)
    return answer(
        await operations.list_messages(
            context(request),
            caller(request, "list_messages"),
            path(request, "thread_id"),
            query,
            run_id=one_value(request.query, "run_id") or None,
        )
    )


async def retrieve_message(request: web.Request) -> web.Response:
    return answer(
        await operations.retrieve_message(
            context(request),
            caller(request, "retrieve_message"),
            path(request, "thread_id"),
            path(request, "message_id"),
        )
    )


async def modify_message(request: web.Request) -> web.Response:
    who, sent = await body(request, "modify_message", ModifyMessage)
    return answer(
        await operations.modify_message(
            context(request), who, path(request, "thread_id"), path(request, "message_id"), sent
        )
    )


async def delete_message(request: web.Request) -> web.Response:
    require_shape(request, "v2")
    return answer(
        await operations.delete_message(
            context(request),
            caller(request, "delete_message"),
            path(request, "thread_id"),
            path(request, "message_id"),
        )
    )


async def list_message_files(request: web.Request) -> web.Response:
    require_shape(request, "v1")
    return answer(
        await operations.list_message_files(
            context(request),
            caller(request, "list_message_files"),
            path(request, "thread_id"),
            path(request, "message_id"),
        )
    )


async def retrieve_message_file(request: web.Request) -> web.Response:
    require_shape(request, "v1")
    return answer(
        await operations.retrieve_message_file(
            context(request),
            caller(request, "retrieve_message_file"),
            path(request, "thread_id"),
            path(request, "message_id"),
            path(request, "file_id"),
        )
    )


async def thread_events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events of one thread (service/sse.py), ending after its deletion."""
    thread_id = path(request, "thread_id")

    async def exists(project: str) -> bool:
        return await views.thread(context(request).pool, project, thread_id) is not None

    return await follow_stream(
        request,
        CATEGORY,
        thread_id,
        exists=exists,
        not_found=operations.thread_not_found(thread_id),
        last_event=EVENT_NAMES[THREAD_DELETED],
    )


THREAD = "/threads/{thread_id}"
MESSAGE = THREAD + "/messages/{message_id}"
# Every operation, under OpenAI's /v1 and Azure's /openai prefixes alike.
ROUTES = [
    ("POST", "/threads", create_thread),
    ("GET", THREAD, retrieve_thread),
    ("POST", THREAD, modify_thread),
    ("DELETE", THREAD, delete_thread),
    ("POST", THREAD + "/messages", create_message),
    ("GET", THREAD + "/messages", list_messages),
    ("GET", MESSAGE, retrieve_message),
    ("POST", MESSAGE, modify_message),
    ("DELETE", MESSAGE, delete_message),
    ("GET", THREAD + "/events", thread_events),
]
# Azure's v1 shape only (under /openai).
AZURE_V1_ROUTES = [
    ("GET", MESSAGE + "/files", list_message_files),
    ("GET", MESSAGE + "/files/{file_id}", retrieve_message_file),
]
