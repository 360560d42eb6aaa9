"""The relay's Redis client packs commands with hiredis: the same bytes redis-py would send
(the answers of a real server: tests/test_relay_client.py)."""

from redis.asyncio.connection import Connection

from eventlog.redis_client import relay_client

# Nothing listens there, and nothing is sent: the client only packs.
NOWHERE = "redis://127.0.0.1:1/0"
FIELDS = {"event_id": b"7d1b", "type": b"MessageCreated", "data": '{"id": "msg_é"}'}


def _xadd(key: str) -> tuple:
    flat = [part for pair in FIELDS.items() for part in pair]
    return ("XADD", key, "MAXLEN", "~", 10000, "12-34", *flat)


def test_packs_the_bytes_redis_py_packs():
    client = relay_client(NOWHERE)
    connection = client.connection_pool.connection_class()
    plain = Connection()
    for command in (_xadd("k"), ("XINFO STREAM", "k"), ("XREAD", "COUNT", 5, "STREAMS", "k", 0)):
        assert b"".join(connection.pack_command(*command)) == b"".join(plain.pack_command(*command))
