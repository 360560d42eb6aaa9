"""Settings from the environment: switches read as a user writes them, and a typo refused."""

import pytest
from pydantic import ValidationError

from service.config import ConfigError, Settings

VARIABLES = [
    "DATABASE_URL",
    "REDIS_URL",
    "THREADLOG_API_KEYS",
    "THREADLOG_REDIS_PREFIX",
    "THREADLOG_READ_YOUR_WRITES_TIMEOUT",
    "THREADLOG_MAX_BODY_BYTES",
    "THREADLOG_DB_POOL_MIN",
    "THREADLOG_DB_POOL_MAX",
    "THREADLOG_STREAM_MAXLEN",
    "THREADLOG_THREAD_STREAM_MAXLEN",
    "THREADLOG_STREAM_PARTITIONS",
    "THREADLOG_REDIS_CLUSTER",
    "THREADLOG_SSE_HEARTBEAT_SECONDS",
    "THREADLOG_RATE_LIMIT_RPM",
    "THREADLOG_RATE_LIMIT_WINDOW_SECONDS",
    "THREADLOG_REQUEST_TIMEOUT_SECONDS",
    "THREADLOG_MAX_INFLIGHT",
    "THREADLOG_READY_MAX_LAG_SECONDS",
    "THREADLOG_READ_DATABASE_URL",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """The developer's own settings must not decide these tests."""
    for name in [*VARIABLES, *Settings.model_fields]:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", False), ("1", True), ("true", True), ("Yes", True), ("0", False), ("off", False)],
)
def test_redis_cluster_switch(monkeypatch, text, expected):
    monkeypatch.setenv("THREADLOG_REDIS_CLUSTER", text)
    assert Settings.from_env().redis_cluster is expected


def test_a_switch_that_is_neither_is_refused(monkeypatch):
    monkeypatch.setenv("THREADLOG_REDIS_CLUSTER", "cluster")
    with pytest.raises(ConfigError, match="THREADLOG_REDIS_CLUSTER"):
        Settings.from_env()


def test_every_setting_has_its_variable():
    assert sorted(str(f.validation_alias) for f in Settings.model_fields.values()) == sorted(
        VARIABLES
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("THREADLOG_DB_POOL_MIN", "abc", "THREADLOG_DB_POOL_MIN: expected an integer, got 'abc'"),
        (
            "THREADLOG_MAX_BODY_BYTES",
            "4MB",
            "THREADLOG_MAX_BODY_BYTES: expected an integer, got '4MB'",
        ),
        ("THREADLOG_MAX_INFLIGHT", "1.5", "THREADLOG_MAX_INFLIGHT: expected an integer, got '1.5'"),
        (
            "THREADLOG_SSE_HEARTBEAT_SECONDS",
            "fast",
            "THREADLOG_SSE_HEARTBEAT_SECONDS: expected a number, got 'fast'",
        ),
        (
            "THREADLOG_REDIS_CLUSTER",
            "cluster",
            "THREADLOG_REDIS_CLUSTER: expected true or false, got 'cluster'",
        ),
        (
            "THREADLOG_DB_POOL_MIN",
            "0",
            "THREADLOG_DB_POOL_MIN: expected an integer of at least 1, got '0'",
        ),
        (
            "THREADLOG_REQUEST_TIMEOUT_SECONDS",
            "-1",
            "THREADLOG_REQUEST_TIMEOUT_SECONDS: expected a number greater than 0, got '-1'",
        ),
        (
            "THREADLOG_RATE_LIMIT_RPM",
            "-5",
            "THREADLOG_RATE_LIMIT_RPM: expected an integer of at least 0, got '-5'",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_its_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        Settings.from_env()
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("THREADLOG_DB_POOL_MIN", "0"),
        ("THREADLOG_DB_POOL_MAX", "0"),
        ("THREADLOG_MAX_BODY_BYTES", "0"),
        ("THREADLOG_STREAM_PARTITIONS", "0"),
        ("THREADLOG_STREAM_MAXLEN", "-1"),
        ("THREADLOG_THREAD_STREAM_MAXLEN", "0"),
        ("THREADLOG_READ_YOUR_WRITES_TIMEOUT", "0"),
        ("THREADLOG_SSE_HEARTBEAT_SECONDS", "0"),
        ("THREADLOG_REQUEST_TIMEOUT_SECONDS", "0"),
        ("THREADLOG_READY_MAX_LAG_SECONDS", "-0.5"),
        ("THREADLOG_SSE_HEARTBEAT_SECONDS", "nan"),
        ("THREADLOG_RATE_LIMIT_RPM", "-1"),
        ("THREADLOG_RATE_LIMIT_WINDOW_SECONDS", "0"),
        ("THREADLOG_MAX_INFLIGHT", "0"),
        ("THREADLOG_DB_POOL_MAX", "lots"),
        ("THREADLOG_STREAM_PARTITIONS", "two"),
        ("THREADLOG_READ_YOUR_WRITES_TIMEOUT", "5s"),
    ],
)
def test_values_that_would_break_at_run_time_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        Settings.from_env()
    message = str(raised.value)
    assert message.startswith(f"{name}: expected ")
    assert message.endswith(f"got {value!r}")
    assert "\n" not in message


def test_a_pool_minimum_above_its_maximum_is_refused(monkeypatch):
    monkeypatch.setenv("THREADLOG_DB_POOL_MIN", "12")
    monkeypatch.setenv("THREADLOG_DB_POOL_MAX", "4")
    with pytest.raises(ConfigError) as raised:
        Settings.from_env()
    assert str(raised.value) == (
        "THREADLOG_DB_POOL_MIN: expected at most THREADLOG_DB_POOL_MAX (4), got 12"
    )


def test_several_bad_values_are_still_one_line(monkeypatch):
    monkeypatch.setenv("THREADLOG_DB_POOL_MIN", "abc")
    monkeypatch.setenv("THREADLOG_REDIS_CLUSTER", "maybe")
    with pytest.raises(ConfigError) as raised:
        Settings.from_env()
    message = str(raised.value)
    assert "\n" not in message
    assert "THREADLOG_DB_POOL_MIN" in message
    assert "THREADLOG_REDIS_CLUSTER" in message


def test_a_long_value_is_cut_short(monkeypatch):
    monkeypatch.setenv("THREADLOG_DB_POOL_MIN", "9" * 20 + "x" * 200)
    with pytest.raises(ConfigError) as raised:
        Settings.from_env()
    message = str(raised.value)
    assert "x" * 40 not in message
    assert len(message) < 100


def test_api_keys_are_never_echoed(monkeypatch):
    monkeypatch.setenv("THREADLOG_API_KEYS", "sk-live-verysecretkey")
    with pytest.raises(ConfigError) as raised:
        Settings.from_env()
    assert str(raised.value).startswith("THREADLOG_API_KEYS: expected key:project")
    assert "verysecret" not in str(raised.value)


def test_a_url_password_is_never_echoed():
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(read_database_url=["postgresql://app:hunter2@db/threads"])
    assert str(raised.value).startswith("THREADLOG_READ_DATABASE_URL: expected a string")
    assert "hunter2" not in str(raised.value)


def test_empty_values_mean_the_default(monkeypatch):
    for name in VARIABLES:
        monkeypatch.setenv(name, "")
    assert Settings.from_env() == Settings()
    assert Settings.from_env().read_database_url is None
    assert Settings.from_env().redis_prefix == "threadlog"
    assert Settings.from_env().pool_min == 10


def test_the_environment_is_read(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/threads")
    monkeypatch.setenv("THREADLOG_API_KEYS", "sk-a:alpha, sk-b:beta")
    monkeypatch.setenv("THREADLOG_DB_POOL_MIN", "2")
    monkeypatch.setenv("THREADLOG_DB_POOL_MAX", "8")
    monkeypatch.setenv("THREADLOG_READ_YOUR_WRITES_TIMEOUT", "0.25")
    monkeypatch.setenv("THREADLOG_READ_DATABASE_URL", "postgresql://replica.example/threads")
    settings = Settings.from_env()
    assert settings.database_url == "postgresql://db.example/threads"
    assert settings.api_keys == {"sk-a": "alpha", "sk-b": "beta"}
    assert (settings.pool_min, settings.pool_max) == (2, 8)
    assert settings.read_your_writes_timeout == 0.25
    assert settings.read_database_url == "postgresql://replica.example/threads"


def test_overrides_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://from-env/db")
    monkeypatch.setenv("REDIS_URL", "redis://from-env:6379/0")
    monkeypatch.setenv("THREADLOG_DB_POOL_MIN", "3")
    monkeypatch.setenv("THREADLOG_DB_POOL_MAX", "7")
    settings = Settings.from_env(
        database_url="postgresql://override/db", redis_url="redis://override/1", pool_min=2
    )
    assert settings.database_url == "postgresql://override/db"
    assert settings.redis_url == "redis://override/1"
    assert settings.pool_min == 2
    assert settings.pool_max == 7  # not overridden: still from the environment


def test_an_override_replaces_a_bad_value_in_the_environment(monkeypatch):
    monkeypatch.setenv("THREADLOG_DB_POOL_MIN", "abc")
    assert Settings.from_env(pool_min=1).pool_min == 1


def test_overrides_are_checked_too():
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(pool_max="many")
    assert str(raised.value) == "THREADLOG_DB_POOL_MAX: expected an integer, got 'many'"


def test_keyword_construction_does_not_read_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://from-env/db")
    monkeypatch.setenv("THREADLOG_DB_POOL_MIN", "abc")
    monkeypatch.setenv("THREADLOG_MAX_INFLIGHT", "7")
    settings = Settings(database_url="postgresql://given/db", redis_url="redis://given/0")
    assert settings.database_url == "postgresql://given/db"
    assert settings.pool_min == 10
    assert settings.max_inflight == 512


def test_field_names_are_not_environment_variables(monkeypatch):
    # Code may say Settings(pool_min=...); the environment says THREADLOG_DB_POOL_MIN only.
    monkeypatch.setenv("pool_min", "abc")
    monkeypatch.setenv("database_url", "postgresql://wrong/db")
    settings = Settings.from_env()
    assert settings.pool_min == 10
    assert settings.database_url == "postgresql://postgres@127.0.0.1:5432/postgres"


def test_api_keys_stay_out_of_repr(monkeypatch):
    monkeypatch.setenv("THREADLOG_API_KEYS", "sk-hidden-123:alpha")
    settings = Settings.from_env()
    assert settings.api_keys == {"sk-hidden-123": "alpha"}
    assert "sk-hidden" not in repr(settings)
    assert "sk-hidden" not in str(settings)
    assert "api_keys" not in repr(settings)


def test_settings_are_frozen_and_copied_with_changes():
    settings = Settings(database_url="postgresql://given/db", api_keys={"k": "p"})
    with pytest.raises(ValidationError):
        settings.pool_min = 3  # type: ignore[misc]
    quick = settings.model_copy(update={"sse_heartbeat_seconds": 0.1, "max_inflight": 0})
    assert (quick.sse_heartbeat_seconds, quick.max_inflight) == (0.1, 0)
    assert (settings.sse_heartbeat_seconds, settings.max_inflight) == (15.0, 512)
    assert quick.api_keys == {"k": "p"}
    assert isinstance(quick, Settings)
