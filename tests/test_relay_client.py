"""The relay's Redis client packs commands with hiredis: the same bytes redis-py would send, and
the same answers from a real server."""

from redis.asyncio.connection import Connection

from projections.redis_client import relay_client

FIELDS = {"event_id": b"7d1b", "type": b"MessageCreated", "data": '{"id": "msg_é"}'}


def _xadd(key: str) -> tuple:
    flat = [part for pair in FIELDS.items() for part in pair]
    return ("XADD", key, "MAXLEN", "~", 10000, "12-34", *flat)


def test_packs_the_bytes_redis_py_packs(server_urls):
    client = relay_client(server_urls[1])
    connection = client.connection_pool.connection_class()
    plain = Connection()
    for command in (_xadd("k"), ("XINFO STREAM", "k"), ("XREAD", "COUNT", 5, "STREAMS", "k", 0)):
        assert b"".join(connection.pack_command(*command)) == b"".join(plain.pack_command(*command))


async def test_talks_to_a_real_server(server_urls, make_prefix):
    key = make_prefix() + ":packed"
    client = relay_client(server_urls[1])
    try:
        pipe = client.pipeline(transaction=False)
        pipe.xadd(key, FIELDS, id="12-34", maxlen=100, approximate=True)
        pipe.xadd(key, FIELDS, id="12-34")  # refused: not above the last id
        added, refused = await pipe.execute(raise_on_error=False)
        assert added == b"12-34"
        assert "equal or smaller" in str(refused)
        info = await client.xinfo_stream(key)
        assert info["last-generated-id"] == b"12-34"
        [(entry_id, fields)] = await client.xrange(key)
        assert entry_id == b"12-34"
        assert fields[b"data"].decode() == FIELDS["data"]
    finally:
        await client.aclose()
