"""Settings from the environment: switches read as a user writes them, and a typo refused."""

import pytest

from service.config import ConfigError, Settings


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
