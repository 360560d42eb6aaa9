"""The relay's Redis client, whose commands are packed by hiredis, in C.

redis-py's asyncio client packs every command in Python, argument by argument (its sync client
packs with hiredis when it is installed, as it is here). The relay sends two XADDs of a dozen
fields for every event, and packing them was the largest single cost of the relay: 11 us a
command in Python, 2 us in hiredis, the same bytes.
"""

import hiredis
import redis.asyncio as redis


class _PackedByHiredis:
    """Mixed in before the connection class the URL chose (TCP, TLS or a Unix socket)."""

    def pack_command(self, *args: object) -> list[bytes]:
        name = args[0]
        if isinstance(name, str) and " " in name:
            # A two-word command ("XINFO STREAM") goes out as two words, as redis-py sends it.
            args = (*name.split(), *args[1:])
        return [hiredis.pack_command(args)]


def relay_client(url: str) -> redis.Redis:
    client = redis.from_url(url)
    pool = client.connection_pool
    base = pool.connection_class
    pool.connection_class = type(base.__name__, (_PackedByHiredis, base), {})
    return client
