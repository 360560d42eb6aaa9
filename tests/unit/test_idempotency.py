"""Idempotency keys (service/domain/idempotency.py): a key and its project name the events a
request appends, so a retry collides with the first attempt; and the key's own bounds."""

import uuid

import pytest

from service.domain.errors import InvalidRequest
from service.domain.idempotency import (
    KEY_MAX_LENGTH,
    check_key,
    event_ids,
    fingerprint,
    key_reused,
)


def test_event_ids_are_the_same_for_the_same_project_and_key():
    first = event_ids("project-a", "key-1", 3)
    assert first == event_ids("project-a", "key-1", 3)
    assert len(set(first)) == 3
    assert all(isinstance(i, uuid.UUID) and i.version == 5 for i in first)
    # A request appending fewer events gets the first of the same ids.
    assert event_ids("project-a", "key-1", 2) == first[:2]


def test_event_ids_differ_by_project_and_by_key():
    ids = event_ids("project-a", "key-1", 2)
    assert set(ids).isdisjoint(event_ids("project-b", "key-1", 2))
    assert set(ids).isdisjoint(event_ids("project-a", "key-2", 2))
    # The parts cannot run into each other: ("a", "b-c") is not ("a-b", "c").
    assert event_ids("a", "bc", 1) != event_ids("ab", "c", 1)


def test_without_a_key_every_request_gets_new_ids():
    ids = event_ids("project-a", None, 2)
    assert len(set(ids)) == 2 and all(i.version == 4 for i in ids)
    assert set(ids).isdisjoint(event_ids("project-a", None, 2))
    assert event_ids("project-a", None, 0) == []


@pytest.mark.parametrize("key", [None, "k", "x" * KEY_MAX_LENGTH, "Ünïcode-ключ"])
def test_keys_within_bounds(key):
    assert check_key(key) == key


# "\udcff": a header byte that was not UTF-8, as the server hands it over (surrogate escape).
@pytest.mark.parametrize("key", ["", "x" * (KEY_MAX_LENGTH + 1), "a\x00b", "k\udcff\udcfe"])
def test_keys_out_of_bounds(key):
    with pytest.raises(InvalidRequest) as refused:
        check_key(key)
    assert (refused.value.param, refused.value.code) == ("Idempotency-Key", "invalid_value")
    assert refused.value.message == (
        "Invalid 'Idempotency-Key' header: expected 1 to 255 characters of UTF-8 text."
    )


def test_a_fingerprint_is_of_the_request_not_of_its_key_order():
    one = fingerprint("create_message", {"thread_id": "t"}, {"role": "user", "content": "x"})
    assert one == fingerprint(
        "create_message", {"thread_id": "t"}, {"content": "x", "role": "user"}
    )
    assert one != fingerprint(
        "create_message", {"thread_id": "u"}, {"role": "user", "content": "x"}
    )
    assert one != fingerprint(
        "modify_message", {"thread_id": "t"}, {"role": "user", "content": "x"}
    )
    assert one != fingerprint(
        "create_message", {"thread_id": "t"}, {"role": "user", "content": "y"}
    )
    assert len(one) == 64 and int(one, 16) >= 0


def test_a_reused_key_is_refused_by_name():
    error = key_reused("key-1")
    assert (error.param, error.code, error.status) == (
        "Idempotency-Key",
        "idempotency_key_reused",
        400,
    )
    assert "other than 'key-1'" in error.message
