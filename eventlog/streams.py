"""The Redis stream keys the log is published to.

Every event goes to its own stream's key, `<prefix>:<category>:{<stream id>}` (a thread's is
`<prefix>:thread:{thread_...}`; the braces make the id the Redis Cluster hash tag), and to the
global stream `<prefix>:events`, or one of its partitions `<prefix>:events:{0..N-1}`, chosen
by a stable hash of the stream id so a stream's events stay in one partition, in order.
"""

import zlib


def stream_key(prefix: str, category: str, stream_id: str) -> str:
    return f"{prefix}:{category}:{{{stream_id}}}"


def global_stream(prefix: str) -> str:
    return f"{prefix}:events"


def global_streams(prefix: str, partitions: int = 1) -> list[str]:
    """The global stream, or its partitions when there is more than one."""
    if partitions <= 1:
        return [global_stream(prefix)]
    return [f"{prefix}:events:{{{n}}}" for n in range(partitions)]


def global_stream_of(prefix: str, stream_id: str, partitions: int = 1) -> str:
    """Which global stream (partition) carries a stream's events."""
    if partitions <= 1:
        return global_stream(prefix)
    return f"{prefix}:events:{{{zlib.crc32(stream_id.encode()) % partitions}}}"
