"""The real server against OpenAI's official OpenAPI document, fuzzed by schemathesis.

The SDK tests check the requests clients really send; this one generates the contract's whole
space of valid and invalid requests and checks that every answer is no 5xx, has a status the
document declares, and has the declared content type and body.

`openapi/openapi-threads-messages.yaml` is the official subset, kept as published;
`openapi/overlay.yaml` adds what OpenAI documents only in prose and the live API answers (400, 401,
404, the metadata and `limit` limits, ...), each with its reason. Schemathesis calls the server
synchronously, which would deadlock against a server in the session's event loop, so the server
runs as a subprocess (`python -m service serve`) on its own database and Redis prefix. Some cases
use a real thread and message, so they reach the handlers past the 404; deletes get fresh ones.
"""

import asyncio
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis.strategies as st
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
SPEC = Path(__file__).with_name("openapi") / "openapi-threads-messages.yaml"
OVERLAY = Path(__file__).with_name("openapi") / "overlay.yaml"
KEY, PROJECT = "sk-schema", "project-schema"
HEADERS = {"Authorization": f"Bearer {KEY}"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _merge(target: Any, patch: Any) -> Any:
    """Applies an overlay value (semantics in overlay.yaml)."""
    if isinstance(patch, dict) and isinstance(target, dict):
        return {**target, **{k: _merge(target.get(k), v) for k, v in patch.items()}}
    if isinstance(patch, dict) and isinstance(target, list):
        patched = list(target)
        for key, value in patch.items():
            at = key if isinstance(key, int) else [i.get("name") for i in target].index(key)
            patched[at] = _merge(target[at], value)
        return patched
    return patch


def patched_spec() -> dict[str, Any]:
    spec = yaml.safe_load(SPEC.read_text())
    overlay = yaml.safe_load(OVERLAY.read_text())
    spec = _merge(spec, overlay["document"])
    for operations in spec["paths"].values():
        for method, operation in operations.items():
            operations[method] = _merge(operation, overlay["every-operation"])
    return spec


async def _started(server: asyncio.subprocess.Process, url: str) -> bool:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            if server.returncode is not None:
                return False
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    return False


@pytest.fixture(scope="session")
async def live_server(server_urls, make_database, make_prefix) -> AsyncIterator[str]:
    """`threadlog serve` in a subprocess; yields its base URL (".../v1")."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": await make_database(),
        "REDIS_URL": server_urls[1],
        "THREADLOG_API_KEYS": f"{KEY}:{PROJECT}",
        "THREADLOG_REDIS_PREFIX": make_prefix(),
    }
    with tempfile.TemporaryFile() as log:
        server = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port)),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            if not await _started(server, f"http://127.0.0.1:{port}"):
                log.seek(0)
                pytest.fail(f"the server did not start:\n{log.read().decode(errors='replace')}")
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            if server.returncode is None:
                server.terminate()
                try:
                    await asyncio.wait_for(server.wait(), 30)
                except TimeoutError:
                    server.kill()
                    await server.wait()


# Path parameters a case can carry instead of a generated id; `Objects.resolve` replaces them
# when the case runs (the schema and its cases exist before the server does).
THREAD, MESSAGE, FRESH = "shared-thread", "shared-message", "fresh-object"


def real_ids(method: str, generated: dict[str, Any]) -> list[dict[str, Any]]:
    """Path parameters naming real objects: the thread only, then the thread and its message.

    A delete gets FRESH for what it deletes, so that it never deletes the shared objects.
    """
    fresh = method.upper() == "DELETE"
    if "message_id" not in generated:
        return [{"thread_id": FRESH if fresh else THREAD}]
    return [
        {**generated, "thread_id": THREAD},
        {"thread_id": THREAD, "message_id": FRESH if fresh else MESSAGE},
    ]


# Loaded at import, not with `schemathesis.pytest.from_fixture`, which fails on pytest 9.2
# (schemathesis 4.32.5 sets `Node._nodeid`, which pytest no longer has): cases name the real
# objects by the placeholders above. A fixed seed (schemathesis derives one per operation from
# it) makes every run of a commit send the same cases. Hypothesis also mixes in literals from the
# project's own loaded modules (service/, projections/), so the cases change with that code.
schema = schemathesis.openapi.from_dict(patched_spec(), config=schemathesis.Config(seed=20260821))
schema.config.update(headers=HEADERS)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    # Fuzzing: ids as generated (unknown: 404), or naming real objects.
    if not path_parameters:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, *real_ids(context.operation.method, path_parameters)])


@schema.hook
def map_case(context, case):
    # Coverage: a case about the body or the query names real objects, so that its boundary
    # values reach the handler instead of the 404 of an unknown thread.
    phase = case.meta.phase if case.meta else None
    if (
        case.path_parameters
        and phase is not None
        and phase.name == TestPhase.COVERAGE
        and phase.data.parameter_location != ParameterLocation.PATH
    ):
        case.path_parameters = real_ids(case.method, case.path_parameters)[-1]
    return case


class Objects:
    """The run's shared thread and message, and fresh ones for deletes."""

    def __init__(self, client: httpx.Client):
        self.client = client
        self.thread_id = self.new_thread()
        self.message_id = self.new_message(self.thread_id)

    def new_thread(self) -> str:
        return self.client.post("/threads", json={}).raise_for_status().json()["id"]

    def new_message(self, thread_id: str) -> str:
        message = {"role": "user", "content": "Hello"}
        response = self.client.post(f"/threads/{thread_id}/messages", json=message)
        return response.raise_for_status().json()["id"]

    def resolve(self, path_parameters: dict[str, Any]) -> None:
        thread_id = path_parameters.get("thread_id")
        if thread_id in (THREAD, FRESH):
            thread_id = path_parameters["thread_id"] = (
                self.thread_id if thread_id == THREAD else self.new_thread()
            )
        if path_parameters.get("message_id") == MESSAGE:
            path_parameters["message_id"] = self.message_id
        elif path_parameters.get("message_id") == FRESH:
            path_parameters["message_id"] = self.new_message(thread_id)


@pytest.fixture(scope="session")
def objects(live_server) -> Iterator[Objects]:
    with httpx.Client(base_url=live_server, headers=HEADERS) as client:
        yield Objects(client)


@schema.parametrize()
@settings(
    max_examples=100,
    database=None,  # no example database: nothing carries over between runs (seed: see `schema`)
    deadline=None,  # each example is an HTTP round trip, often with a Postgres write
    # Generating from this schema (nested parts, 256,000-character limits) is slow and can draw
    # large bodies; on a loaded CI machine these would fail the run without finding anything.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
def test_official_schema(case, live_server, objects):
    objects.resolve(case.path_parameters)
    case.call_and_validate(base_url=live_server, checks=CHECKS)
