"""`threadlog tail`: print events from the Redis streams as they arrive."""

import contextlib
import sys

import orjson

from eventlog.redis_client import connect_redis
from projections.envelope import StreamEvent
from projections.subscriber import Subscriber


def _readable(event: StreamEvent) -> str:
    data = event.data
    detail = ""
    if data.get("object") == "thread.message":
        texts = [p["text"]["value"] for p in data.get("content", ()) if p.get("type") == "text"]
        detail = f" {data.get('role')}: {' '.join(texts)[:120]!r}"
    elif "metadata" in data:
        detail = f" metadata={orjson.dumps(data['metadata']).decode()}"
    return (
        f"{event.occurred_at:%H:%M:%S} {event.id:>20} {event.project} {event.stream_id} "
        f"v{event.version} {event.event} {data.get('id', '')}{detail}"
    )


def _line(event: StreamEvent, as_json: bool) -> str:
    if not as_json:
        return _readable(event)
    return orjson.dumps(event.model_dump(mode="json", by_alias=True)).decode()


async def tail(
    redis_url: str,
    prefix: str,
    *,
    thread_id: str | None,
    group: str | None,
    consumer: str | None,
    start: str,
    as_json: bool,
    partitions: int = 1,
    cluster: bool = False,
) -> None:
    client = connect_redis(redis_url, cluster=cluster)
    subscriber = Subscriber(client, prefix, partitions)
    try:
        if group:
            members = subscriber.group(group, consumer or "tail", thread_id=thread_id, start=start)
            async for delivery in members:
                print(_line(delivery.event, as_json), flush=True)
                await members.ack(delivery)
        else:
            # Closed on the way out, so its reads in flight end before the client does.
            async with contextlib.aclosing(
                subscriber.follow(thread_id=thread_id, after=start)
            ) as events:
                async for event in events:
                    print(_line(event, as_json), flush=True)
    except BrokenPipeError:  # piped into head or similar
        sys.stderr.close()
    finally:
        await client.aclose()
