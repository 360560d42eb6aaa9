"""React to every new message, as a member of a consumer group.

    eval "$(threadlog dev --print-env)"      # or export REDIS_URL of your own Redis
    python docs/examples/react_to_messages.py --count 10

Run several copies with different --consumer names: they share the work. If one dies, the
others pick up what it had taken but not acknowledged (after --min-idle-ms). An event that keeps
failing is moved to the dead-letter stream after --max-deliveries tries.
"""

import argparse
import asyncio
import os

import redis.asyncio as redis

from projections.subscriber import Subscriber


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", default=os.environ.get("THREADLOG_REDIS_PREFIX", "threadlog"))
    parser.add_argument("--group", default="reactions")
    parser.add_argument("--consumer", default="worker-1")
    parser.add_argument("--start", default="$", help="where a new group starts: $ now, 0 oldest")
    parser.add_argument("--min-idle-ms", type=int, default=30_000)
    parser.add_argument("--max-deliveries", type=int, default=5)
    parser.add_argument("--count", type=int, default=0, help="stop after this many (0: never)")
    args = parser.parse_args()

    url = os.environ.get("REDIS_URL")
    if not url:
        parser.exit(2, 'REDIS_URL is not set: eval "$(threadlog dev --print-env)", or export it\n')
    client = redis.from_url(url)
    members = Subscriber(client, args.prefix).group(
        args.group,
        args.consumer,
        start=args.start,
        min_idle_ms=args.min_idle_ms,
        max_deliveries=args.max_deliveries,
    )
    handled = 0
    async for delivery in members:
        event = delivery.event
        if event.event == "thread.message.created":
            text = " ".join(
                part["text"]["value"] for part in event.data["content"] if part["type"] == "text"
            )
            print(f"{event.thread_id} {event.data['role']}: {text}", flush=True)
        # Acknowledge only once the work is done: a crash before this line means redelivery.
        await members.ack(delivery)
        handled += 1
        if args.count and handled >= args.count:
            break
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
