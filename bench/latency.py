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
import contextlib
import functools
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
from .stream_tail import StreamTail


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


def _token(fields: list[bytes]) -> str | None:
    """The first word of the message's text in an entry's `data` (fields: name, value, ...)."""
    try:
        message = orjson.loads(fields[fields.index(b"data") + 1])
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
    answer_within: float = 10.0,
    grace: float = 5.0,
) -> PacedResult:
    """Sends `rate` creates a second for `seconds`. No task, future or time-out per request: the
    sending loop hands each prepared request to the pool with a callback, and a create
    answered after `answer_within` seconds counts as a time-out, as one never answered does."""
    loop = asyncio.get_running_loop()
    tag = "tok" + secrets.token_hex(4)
    prefix = tag + "-"
    total = int(rate * seconds)
    sent_at: list[float | None] = [None] * total
    seen_at: dict[int, float] = {}
    created: list[float] = []
    errors: Counter = Counter()
    outstanding = 0
    all_answered = loop.create_future()
    sending = True

    def on_entry(_entry_id: bytes, fields: list[bytes], now: float) -> None:
        token = _token(fields)
        if token is not None and token.startswith(prefix):
            i = int(token[len(prefix) :])
            if i not in seen_at:
                seen_at[i] = now

    # "$" is the stream's last id; resolved once here so no entry falls between two XREADs.
    client = redis.from_url(redis_url)
    try:
        last = await client.xrevrange(stream, count=1)
    finally:
        await client.aclose()
    tail = await StreamTail.open(redis_url, stream, last[0][0] if last else b"0-0", on_entry)
    pool = http.Pool(base_url, 64)
    request_headers = {"Content-Type": "application/json", **headers}
    skipped = 0

    def answered(t0: float, result: http.Result) -> None:
        nonlocal outstanding
        outstanding -= 1
        elapsed = time.perf_counter() - t0
        if isinstance(result, BaseException):
            errors[type(result).__name__] += 1
        elif elapsed > answer_within:
            errors["timeout"] += 1
        elif 200 <= result[0] < 300:
            created.append(elapsed)
        else:
            errors[f"HTTP {result[0]}"] += 1
        if not sending and outstanding == 0 and not all_answered.done():
            all_answered.set_result(None)

    try:
        started = time.perf_counter()
        for i in range(total):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if outstanding >= max_outstanding:
                skipped += 1
                continue
            body = orjson.dumps({"role": "user", "content": f"{prefix}{i} {TEXT}"})
            path = f"/v1/threads/{thread_ids[i % len(thread_ids)]}/messages"
            raw = http.prepare(base_url, "POST", path, request_headers, body)
            outstanding += 1
            t0 = time.perf_counter()
            sent_at[i] = t0
            pool.submit(raw, functools.partial(answered, t0))
        sending = False
        if outstanding:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(all_answered), answer_within + 20)
        if outstanding:
            errors["timeout"] += outstanding  # never answered
            outstanding = 0
        deadline = time.perf_counter() + grace
        while len(seen_at) < len(created) and time.perf_counter() < deadline:
            if tail.stopped.done():
                break
            await asyncio.sleep(0.01)
    finally:
        pool.close()
        await tail.stop()
    if tail.error is not None:
        raise RuntimeError(f"the subscriber's XREAD failed: {tail.error!r}")

    delays = sorted(t - sent_at[i] for i, t in seen_at.items() if sent_at[i] is not None)
    created.sort()
    return PacedResult(
        rate=rate,
        sent=sum(1 for t in sent_at if t is not None),
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
