"""Create-to-subscriber latency: creates at a fixed rate, and a Redis consumer timing each one.

Open loop: a create is sent every 1/rate seconds whether or not earlier ones have answered (a
closed loop would slow down with the server and hide its queueing). Each message's content
starts with a unique token; the consumer does blocking XREADs on the global stream and, for each
entry, finds the token in `data` (the message object: content[0].text.value). The latency of a
message is the moment the consumer sees its entry minus the moment its request was sent, both
on this process's monotonic clock. The create's own latency (request sent to response read) is
kept too: the issue's targets are both at half the maximum create rate.
"""

import asyncio
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson
import redis.asyncio as redis

from . import http
from .disk import Flushes
from .load import percentile
from .seed import TEXT


@dataclass
class PacedResult:
    rate: float
    sent: int
    ok: int
    create_p50_ms: float
    create_p99_ms: float
    seen: int
    subscriber_p50_ms: float
    subscriber_p99_ms: float
    create_max_ms: float = 0.0
    subscriber_max_ms: float = 0.0
    errors: Counter = field(default_factory=Counter)
    # Sends not made because `max_outstanding` requests were already waiting for an answer.
    skipped: int = 0
    # The disk's flush latencies over the same seconds (bench/disk.py), when it could watch.
    flushes: Flushes | None = None

    @property
    def lost(self) -> int:
        """Created (2xx) but not seen on the stream within the grace period."""
        return self.ok - self.seen


def _token(fields: dict[bytes, bytes]) -> str | None:
    try:
        message = orjson.loads(fields[b"data"])
        return message["content"][0]["text"]["value"].split(" ", 1)[0]
    except (KeyError, IndexError, TypeError, ValueError):
        return None


async def paced_creates(
    base_url: str,
    thread_ids: list[str],
    headers: dict[str, str],
    *,
    rate: float,
    seconds: float,
    redis_url: str,
    stream: str,
    max_outstanding: int = 256,
    grace: float = 5.0,
) -> PacedResult:
    tag = "tok" + secrets.token_hex(4)
    sent_at: dict[str, float] = {}
    seen_at: dict[str, float] = {}
    created: list[float] = []
    errors: Counter = Counter()
    sending_done = asyncio.Event()
    client = redis.from_url(redis_url)

    # "$" is the stream's last id; resolved once here so no entry falls between two XREADs.
    last = await client.xrevrange(stream, count=1)
    start_id: bytes | str = last[0][0] if last else "0-0"

    async def consume() -> None:
        last_id = start_id
        deadline = None
        while True:
            if sending_done.is_set():
                if deadline is None:
                    deadline = time.perf_counter() + grace
                if len(seen_at) >= len(created) or time.perf_counter() > deadline:
                    return
            reply = await client.xread({stream: last_id}, count=1000, block=200)
            now = time.perf_counter()
            for _key, entries in reply or ():
                for entry_id, fields in entries:
                    last_id = entry_id
                    token = _token(fields)
                    if token is not None and token.startswith(tag) and token not in seen_at:
                        seen_at[token] = now

    consumer = asyncio.create_task(consume())
    pool = http.Pool(base_url, 64)
    request_headers = {"Content-Type": "application/json", **headers}
    tasks: set[asyncio.Task] = set()
    skipped = 0

    async def send(i: int) -> None:
        token = f"{tag}-{i}"
        body = orjson.dumps({"role": "user", "content": f"{token} {TEXT}"})
        path = f"/v1/threads/{thread_ids[i % len(thread_ids)]}/messages"
        raw = http.prepare(base_url, "POST", path, request_headers, body)
        t0 = time.perf_counter()
        sent_at[token] = t0
        try:
            async with asyncio.timeout(10):
                status, _ = await pool.request(raw)
        except (OSError, TimeoutError, http.HttpError) as exc:
            errors["timeout" if isinstance(exc, TimeoutError) else type(exc).__name__] += 1
            return
        if 200 <= status < 300:
            created.append(time.perf_counter() - t0)
        else:
            errors[f"HTTP {status}"] += 1

    try:
        started = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(tasks) >= max_outstanding:
                skipped += 1
                continue
            task = asyncio.create_task(send(i))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=30)
        sending_done.set()
        await asyncio.wait_for(consumer, grace + 5)
    finally:
        consumer.cancel()
        for task in tasks:
            task.cancel()
        pool.close()
        await client.aclose()

    delays = sorted(seen_at[t] - sent_at[t] for t in seen_at if t in sent_at)
    created.sort()
    return PacedResult(
        rate=rate,
        sent=len(sent_at),
        ok=len(created),
        create_p50_ms=percentile(created, 50) * 1000,
        create_p99_ms=percentile(created, 99) * 1000,
        seen=len(delays),
        subscriber_p50_ms=percentile(delays, 50) * 1000,
        subscriber_p99_ms=percentile(delays, 99) * 1000,
        create_max_ms=(created[-1] * 1000) if created else 0.0,
        subscriber_max_ms=(delays[-1] * 1000) if delays else 0.0,
        errors=errors,
        skipped=skipped,
    )
