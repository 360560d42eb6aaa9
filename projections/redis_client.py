"""Redis clients: one server, or a Redis Cluster (THREADLOG_REDIS_CLUSTER); and the relay's,
whose commands are packed by hiredis, in C.

redis-py's asyncio client packs every command in Python, argument by argument (its sync client
packs with hiredis when it is installed, as it is here). The relay sends two XADDs of a dozen
fields for every event, and packing them was the largest single cost of the relay: 11 us a
command in Python, 2 us in hiredis, the same bytes.
"""

import hiredis
import redis.asyncio as redis
from redis._parsers.commands import AsyncCommandsParser
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


class _StreamKeysParser(AsyncCommandsParser):
    """Finds the keys of XREAD and XREADGROUP itself. The cluster client routes a command by its
    keys, and for a command whose keys move (these two) it asks a node with COMMAND GETKEYS,
    twice per read: two round trips added to every blocking read of the streams."""

    async def get_keys(self, *args):
        name = str(args[0]).upper()
        if name not in ("XREAD", "XREADGROUP"):
            return await super().get_keys(*args)
        words = [a.decode() if isinstance(a, bytes) else str(a) for a in args]
        i = 4 if name == "XREADGROUP" else 1  # past GROUP <group> <consumer>
        while i < len(words) and words[i].upper() != "STREAMS":
            i += 1 if words[i].upper() == "NOACK" else 2  # COUNT n, BLOCK ms
        streams = args[i + 1 :]
        return list(streams[: len(streams) // 2])


def connect_redis(url: str, *, cluster: bool = False, **options) -> Client:
    """A client for the server at `url`; with `cluster`, for the Redis Cluster that server is a
    node of (the others are discovered from it)."""
    if not cluster:
        return redis.from_url(url, **options)
    client = RedisCluster.from_url(url, **options)
    client.commands_parser = _StreamKeysParser()
    return client


def is_cluster(client: Client) -> bool:
    return isinstance(client, RedisCluster)


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
