"""Redis clients: one server, or a Redis Cluster (THREADLOG_REDIS_CLUSTER); and the relay's,
whose commands are packed by hiredis, in C.

redis-py's asyncio client packs every command in Python, argument by argument (its sync client
packs with hiredis when it is installed, as it is here). The relay sends two XADDs of a dozen
fields for every event, and packing them was the largest single cost of the relay: 11 us a
command in Python, 2 us in hiredis, the same bytes.
"""

import hiredis
import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError

# Either kind answers the same commands; only multi-key commands differ (see stream_reads).
Client = redis.Redis | RedisCluster

# What a Redis that is away, or a cluster that cannot be reached or lacks a shard, raises. A
# cluster client's own errors ("cannot be connected", a slot nobody serves) are not RedisErrors.
REDIS_ERRORS = (RedisError, RedisClusterException, OSError)


class _PackedByHiredis:
    """Mixed in before the connection class the URL chose (TCP, TLS or a Unix socket)."""

    def pack_command(self, *args: object) -> list[bytes]:
        name = args[0]
        if isinstance(name, str) and " " in name:
            # A two-word command ("XINFO STREAM") goes out as two words, as redis-py sends it.
            args = (*name.split(), *args[1:])
        return [hiredis.pack_command(args)]


def _packed(base: type) -> type:
    return type(base.__name__, (_PackedByHiredis, base), {})


def connect_redis(url: str, *, cluster: bool = False, **options) -> Client:
    """A client for the server at `url`; with `cluster`, for the Redis Cluster that server is a
    node of (the others are discovered from it)."""
    if not cluster:
        return redis.from_url(url, **options)
    return RedisCluster.from_url(url, **options)


def is_cluster(client: Client) -> bool:
    return isinstance(client, RedisCluster)


# Blocking reads of streams that share a slot (stream_reads.read_groups makes such groups).
# On a cluster they go straight to the node that serves the slot: routed by their keys, the
# cluster client would ask a node for XREAD's keys (COMMAND GETKEYS) before every read, a
# round trip added to each. A node that no longer serves the slot answers MOVED, which the
# callers' retry covers, and the client's slot map learns of the move from it.


async def xread(client: Client, streams: dict[str, str], *, count: int, block: int | None):
    if not is_cluster(client):
        return await client.xread(streams, count=count, block=block)
    return await _on_slot_node(client, "XREAD", _read_options(count, block), streams)


async def xreadgroup(
    client: Client,
    group: str,
    consumer: str,
    streams: dict[str, str],
    *,
    count: int,
    block: int | None,
):
    if not is_cluster(client):
        return await client.xreadgroup(group, consumer, streams, count=count, block=block)
    options = ("GROUP", group, consumer, *_read_options(count, block))
    return await _on_slot_node(client, "XREADGROUP", options, streams)


def _read_options(count: int, block: int | None) -> tuple:
    return ("COUNT", count) + (("BLOCK", block) if block is not None else ())


async def _on_slot_node(client: RedisCluster, command: str, options: tuple, streams: dict):
    # Returns at once once the client knows the cluster, unless an error (a MOVED) asked for
    # the topology to be read again.
    await client.initialize()
    node = client.get_node_from_key(next(iter(streams)))
    return await client.execute_command(
        command, *options, "STREAMS", *streams, *streams.values(), target_nodes=node
    )


def relay_client(url: str, *, cluster: bool = False) -> Client:
    client = connect_redis(url, cluster=cluster)
    if isinstance(client, RedisCluster):
        # A cluster client makes its nodes, and their connections, from these settings as it
        # discovers them; the nodes it was given to start from already hold their own copy.
        kwargs = client.nodes_manager.connection_kwargs
        kwargs["connection_class"] = _packed(kwargs["connection_class"])
        for node in client.nodes_manager.startup_nodes.values():
            node.connection_class = _packed(node.connection_class)
    else:
        pool = client.connection_pool
        pool.connection_class = _packed(pool.connection_class)
    return client
