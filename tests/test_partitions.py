"""THREADLOG_STREAM_PARTITIONS: the global stream split by thread, on one Redis server and on a
real three-node Redis Cluster (THREADLOG_REDIS_CLUSTER), where the partitions live on different
shards and no command may name two of them."""

import asyncio
import contextlib
import json

import httpx
import pytest
from redis.asyncio.cluster import RedisCluster

from eventlog.database import connect
from eventlog.positions import LogPosition
from eventlog.redis_client import REDIS_ERRORS, connect_redis, xread, xreadgroup
from eventlog.streams import global_stream_of, global_streams, stream_key
from projections.subscriber import Subscriber
from service.event_hub import EventHub
from service.rate_limit import RateLimited, RateLimiter

from .conftest import KEY_A
from .helpers import envelope_entry, tail_lines
from .redis_cluster import LocalCluster

AUTH = {"Authorization": f"Bearer {KEY_A}"}
PARTITIONS = 3


@pytest.fixture(params=["one server", "cluster"])
async def backend(request, server_urls):
    """(REDIS_URL, whether it is a cluster, a client of it that decodes answers)."""
    cluster = request.param == "cluster"
    url = request.getfixturevalue("redis_cluster_url") if cluster else server_urls[1]
    if cluster:
        client = await RedisCluster.from_url(url, decode_responses=True).initialize()
    else:
        client = request.getfixturevalue("redis_client")
    yield url, cluster, client
    if cluster:
        await client.aclose()


async def _tail_json(url: str, cluster: bool, prefix: str, count: int) -> list[dict]:
    """The first `count` lines `threadlog tail --json` prints, configured as a user would."""
    env = {
        "REDIS_URL": url,
        "THREADLOG_REDIS_CLUSTER": "1" if cluster else "0",
        "THREADLOG_REDIS_PREFIX": prefix,
        "THREADLOG_STREAM_PARTITIONS": str(PARTITIONS),
    }
    return [json.loads(line) for line in await tail_lines(env, count, "--from", "0", "--json")]


async def test_partitioned_global_stream(
    settings, make_database, make_prefix, start_server, backend
):
    redis_url, cluster, client = backend
    own = settings.model_copy(
        update={
            "database_url": await make_database(),
            "redis_url": redis_url,
            "redis_cluster": cluster,
            "redis_prefix": make_prefix(),
            "stream_partitions": PARTITIONS,
        }
    )
    url = await start_server(own)
    async with httpx.AsyncClient(headers=AUTH) as http:
        threads = [(await http.post(f"{url}/threads", json={})).json()["id"] for _ in range(6)]

        async def write(thread: str) -> None:
            for i in range(5):
                response = await http.post(
                    f"{url}/threads/{thread}/messages", json={"role": "user", "content": str(i)}
                )
                assert response.status_code == 200

        await asyncio.gather(*(write(t) for t in threads))
        ready = await http.get(url.removesuffix("/v1") + "/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["redis"] == "ok"

    db = await connect(own.database_url)
    log = [
        f"{r['tx']}-{r['global_position']}"
        for r in await db.fetch(
            "select transaction_id::text as tx, global_position from events "
            "order by transaction_id, global_position"
        )
    ]
    await db.close()
    keys = global_streams(own.redis_prefix, PARTITIONS)
    assert len(keys) == PARTITIONS and len(set(keys)) == PARTITIONS
    if cluster:  # the partitions really are on different shards
        assert len({client.get_node_from_key(k).name for k in keys}) > 1

    async def published():
        parts = {k: await client.xrange(k) for k in keys}
        return parts if sum(len(v) for v in parts.values()) == len(log) else None

    for _ in range(200):
        parts = await published()
        if parts:
            break
        await asyncio.sleep(0.05)
    assert parts, "not everything was published"
    published = [eid for entries in parts.values() for eid, _ in entries]
    everything = sorted(published, key=LogPosition.parse)
    assert everything == log
    for key, entries in parts.items():
        ids = [LogPosition.parse(eid) for eid, _ in entries]
        assert ids == sorted(ids)  # each partition in commit order
        for _, fields in entries:  # and each thread in exactly its partition
            assert global_stream_of(own.redis_prefix, fields["thread_id"], PARTITIONS) == key
    assert sum(1 for v in parts.values() if v) > 1  # the threads really spread out
    for thread in threads:  # each thread's own stream: all of its events, in version order
        entries = await client.xrange(stream_key(own.redis_prefix, "thread", thread))
        assert [int(f["version"]) for _, f in entries] == list(range(1, 7))

    # A follower of the whole global stream reads every partition: each event once, each
    # thread in version order.
    subscriber = Subscriber(client, own.redis_prefix, PARTITIONS)
    seen = []
    async with contextlib.aclosing(subscriber.follow(after="0", block_ms=200)) as events:
        async for event in events:
            seen.append(event)
            if len(seen) == len(log):
                break
    assert sorted(e.id for e in seen) == sorted(log)
    for thread in threads:
        assert [e.version for e in seen if e.thread_id == thread] == list(range(1, 7))

    # So does `threadlog tail`, configured from the environment.
    tailed = await _tail_json(redis_url, cluster, own.redis_prefix, len(log))
    assert sorted(e["id"] for e in tailed) == sorted(log)

    # A consumer group spans the partitions too.
    members = subscriber.group("audit", "a", start="0")
    await members.ensure_group()
    delivered = []
    while len(delivered) < len(log):
        batch = await members.read(count=100, block_ms=200)
        delivered += batch
        await members.ack(*batch)
    assert sorted(d.event.id for d in delivered) == sorted(log)
    for key in keys:
        assert (await client.xpending(key, "audit"))["pending"] == 0

    # Live: a follower from "now", blocked on every partition at once, sees events of
    # threads in each partition as they are published; and Server-Sent Events follow a
    # thread through the partitioned hub.
    live = subscriber.follow(block_ms=500)
    first = asyncio.ensure_future(anext(live))
    await asyncio.sleep(0.3)  # the follower is blocked on its reads
    thread = threads[0]
    async with (
        httpx.AsyncClient(headers=AUTH) as http,
        http.stream("GET", f"{url}/threads/{thread}/events") as response,
    ):
        assert response.status_code == 200
        posted = await http.post(
            f"{url}/threads/{thread}/messages", json={"role": "user", "content": "live"}
        )
        lines = response.aiter_lines()
        frame = {}
        async with asyncio.timeout(10):
            async for line in lines:
                if not line:
                    break
                if not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    frame[name] = value
        assert frame["event"] == "thread.message.created"
        assert json.loads(frame["data"]) == posted.json()
        # One message to each of the other threads: every partition gets something.
        for other in threads[1:]:
            response = await http.post(
                f"{url}/threads/{other}/messages", json={"role": "user", "content": "live"}
            )
            assert response.status_code == 200
    async with asyncio.timeout(10):
        followed = [await first] + [await anext(live) for _ in threads[1:]]
    await live.aclose()
    assert sorted(e.thread_id for e in followed) == sorted(threads)
    assert all(e.event == "thread.message.created" for e in followed)


async def test_cluster_client_from_settings(redis_cluster_url):
    client = connect_redis(redis_cluster_url, cluster=True)
    try:
        assert isinstance(client, RedisCluster)
        await client.set("{probe}:x", "1")
        assert len(client.get_nodes()) == 3  # the others were found from one node
    finally:
        await client.aclose()


async def test_rate_limit_counts_on_a_cluster(redis_cluster_url):
    """The limiter fails open when Redis errs, so a cluster it could not count on would let the
    third request through."""
    client = connect_redis(redis_cluster_url, cluster=True)
    limiter = RateLimiter(client, "limits", limit=2, window_seconds=3600)
    try:
        await limiter.check("project-a")
        await limiter.check("project-a")
        with pytest.raises(RateLimited):
            await limiter.check("project-a")
        await limiter.check("project-b")  # its own budget
    finally:
        await client.aclose()


async def _getkeys_calls(client: RedisCluster) -> int:
    """COMMAND GETKEYS calls the cluster's nodes have answered so far."""
    total = 0
    for node in client.get_nodes():
        stats = await client.info("commandstats", target_nodes=node)
        total += stats.get("cmdstat_command|getkeys", {}).get("calls", 0)
    return total


async def test_cluster_reads_ask_no_node_for_their_keys(redis_cluster_url, make_prefix):
    """XREAD and XREADGROUP keys are found by the client: the cluster client would otherwise
    send COMMAND GETKEYS, twice, ahead of every read of the streams."""
    prefix = make_prefix()
    client = connect_redis(redis_cluster_url, cluster=True)
    try:
        keys = global_streams(prefix, PARTITIONS)
        for n, key in enumerate(keys):
            await client.xadd(key, envelope_entry(f"thread_{n}", f"{n + 1}-0"), id=f"{n + 1}-0")
        before = await _getkeys_calls(client)
        subscriber = Subscriber(client, prefix, PARTITIONS)
        async with contextlib.aclosing(subscriber.follow(after="0", block_ms=100)) as events:
            followed = [await anext(events) for _ in keys]
        members = subscriber.group("keys", "k", start="0")
        await members.ensure_group()
        delivered = await members.read(block_ms=100)
        assert len(followed) == len(delivered) == len(keys)
        assert await _getkeys_calls(client) == before
    finally:
        await client.aclose()


async def test_stream_reads_on_a_cluster_go_to_their_node_without_asking_for_their_keys(
    redis_cluster_url,
):
    """A blocking read of the streams of one slot is sent to the node serving it, with no
    COMMAND GETKEYS round trip before it (which the cluster client sends to route XREAD and
    XREADGROUP by their keys), and reads what is there."""
    client = connect_redis(redis_cluster_url, cluster=True, decode_responses=True)
    try:
        await client.initialize()
        keys = ["getkeys:{a}:1", "getkeys:{a}:2"]
        for n, key in enumerate(keys, 1):
            await client.xadd(key, {"n": str(n)}, id=f"{n}-1")
            await client.xgroup_create(key, "g", id="0")
        before = await _getkeys_calls(client)
        read = await xread(client, dict.fromkeys(keys, "0"), count=5, block=10)
        assert read == [[keys[0], [("1-1", {"n": "1"})]], [keys[1], [("2-1", {"n": "2"})]]]
        grouped = await xreadgroup(client, "g", "c", {keys[1]: ">"}, count=5, block=10)
        assert grouped == [[keys[1], [("2-1", {"n": "2"})]]]
        assert await _getkeys_calls(client) == before
    finally:
        await client.aclose()


async def test_the_hub_and_the_limiter_ride_out_a_cluster_outage(tmp_path):
    """Every node away at once: the cluster client's errors are not Redis errors, and the hub's
    reader must neither end with them nor the limiter refuse requests for them."""
    cluster = LocalCluster(tmp_path)
    client = connect_redis(cluster.start(), cluster=True)
    hub = EventHub(client, "outage", PARTITIONS)
    limiter = RateLimiter(client, "outage", limit=1, window_seconds=3600)
    await hub.start()
    try:
        async with hub.subscription("thread_a") as queue:
            cluster.stop()
            await asyncio.sleep(2.5)  # the reader fails, and goes on retrying
            assert not hub._task.done()
            await limiter.check("project-a")
            await limiter.check("project-a")  # over the limit, but nothing can count it
            cluster.restart()
            key = global_stream_of("outage", "thread_a", PARTITIONS)
            for _ in range(100):  # the client finds its way back
                try:
                    await client.xadd(key, envelope_entry("thread_a", "5-1"), id="5-1")
                    break
                except REDIS_ERRORS:
                    await asyncio.sleep(0.1)
            event = await asyncio.wait_for(queue.get(), 10)
        assert event.thread_id == "thread_a" and event.id == "5-1"
    finally:
        await hub.close()
        await client.aclose()
        cluster.stop()
