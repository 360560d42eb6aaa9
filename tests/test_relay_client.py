"""The relay's Redis client packs commands with hiredis: the same answers from a real server as
redis-py's (the same bytes: tests/unit/test_relay_packing.py)."""

from eventlog.redis_client import _PackedByHiredis, relay_client

FIELDS = {"event_id": b"7d1b", "type": b"MessageCreated", "data": '{"id": "msg_é"}'}


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


async def test_packs_on_a_cluster_too(redis_cluster_url):
    """A cluster client makes its connections node by node, as it finds the nodes: every one of
    them packs with hiredis, and a pipeline spread over shards gets each answer back."""
    client = relay_client(redis_cluster_url, cluster=True)
    try:
        keys = [f"packed:{{{n}}}" for n in range(3)]
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.xadd(key, FIELDS, id="12-34")
        pipe.xadd(keys[0], FIELDS, id="12-34")  # refused: not above the last id
        *added, refused = await pipe.execute(raise_on_error=False)
        assert added == [b"12-34"] * len(keys)
        assert "equal or smaller" in str(refused)
        assert len({client.get_node_from_key(k).name for k in keys}) > 1
        connections = [c for node in client.get_nodes() for c in node._connections]
        assert connections and all(isinstance(c, _PackedByHiredis) for c in connections)
    finally:
        await client.aclose()
