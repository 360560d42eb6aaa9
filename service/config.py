"""Settings, read from the environment once at start."""

import os
from dataclasses import dataclass, field


class ConfigError(Exception):
    pass


def parse_api_keys(text: str) -> dict[str, str]:
    """THREADLOG_API_KEYS: comma-separated key:project pairs."""
    keys: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, sep, project = pair.partition(":")
        if not sep or not key or not project:
            raise ConfigError(f"THREADLOG_API_KEYS: expected key:project, got {pair[:4]}...")
        keys[key] = project
    return keys


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: expected true or false, got {value[:16]!r}")


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    api_keys: dict[str, str] = field(repr=False)
    redis_prefix: str = "threadlog"
    # How long a write waits for the projector before answering from the event itself.
    read_your_writes_timeout: float = 5.0
    max_body_bytes: int = 4 * 1024 * 1024
    # Opened at start (all of them by default), so no request waits for one to open.
    pool_min: int = 10
    pool_max: int = 10
    stream_maxlen: int = 1_000_000
    thread_stream_maxlen: int = 10_000
    # Split the global stream into this many streams, by thread (for Redis Cluster).
    stream_partitions: int = 1
    # REDIS_URL names one node of a Redis Cluster; the client finds the others from it.
    redis_cluster: bool = False
    sse_heartbeat_seconds: float = 15.0
    rate_limit_rpm: int = 0
    rate_limit_window_seconds: int = 60
    request_timeout_seconds: float = 30.0
    max_inflight: int = 512
    ready_max_lag_seconds: float = 30.0
    # A Postgres read replica (streaming) for retrieve and list, or None for the primary.
    read_database_url: str | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> "Settings":
        env = os.environ
        values: dict[str, object] = {
            "database_url": env.get(
                "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
            ),
            "redis_url": env.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "api_keys": parse_api_keys(env.get("THREADLOG_API_KEYS", "")),
            "redis_prefix": env.get("THREADLOG_REDIS_PREFIX", "threadlog"),
            "read_your_writes_timeout": _float("THREADLOG_READ_YOUR_WRITES_TIMEOUT", 5.0),
            "max_body_bytes": _int("THREADLOG_MAX_BODY_BYTES", 4 * 1024 * 1024),
            "pool_min": _int("THREADLOG_DB_POOL_MIN", 10),
            "pool_max": _int("THREADLOG_DB_POOL_MAX", 10),
            "stream_maxlen": _int("THREADLOG_STREAM_MAXLEN", 1_000_000),
            "thread_stream_maxlen": _int("THREADLOG_THREAD_STREAM_MAXLEN", 10_000),
            "stream_partitions": _int("THREADLOG_STREAM_PARTITIONS", 1),
            "redis_cluster": _bool("THREADLOG_REDIS_CLUSTER", False),
            "sse_heartbeat_seconds": _float("THREADLOG_SSE_HEARTBEAT_SECONDS", 15.0),
            "rate_limit_rpm": _int("THREADLOG_RATE_LIMIT_RPM", 0),
            "rate_limit_window_seconds": _int("THREADLOG_RATE_LIMIT_WINDOW_SECONDS", 60),
            "request_timeout_seconds": _float("THREADLOG_REQUEST_TIMEOUT_SECONDS", 30.0),
            "max_inflight": _int("THREADLOG_MAX_INFLIGHT", 512),
            "ready_max_lag_seconds": _float("THREADLOG_READY_MAX_LAG_SECONDS", 30.0),
            "read_database_url": env.get("THREADLOG_READ_DATABASE_URL") or None,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
