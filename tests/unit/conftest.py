"""The unit tier: every test here is marked `unit` (tests/conftest.py), asks for no server
fixture, and may not open a connection: one would fail the test."""

import socket

import pytest


@pytest.fixture(autouse=True)
def _connects_nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: socket.socket, address: object, *args: object) -> None:
        raise AssertionError(f"a unit test connects to {address!r}: it belongs outside tests/unit/")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
