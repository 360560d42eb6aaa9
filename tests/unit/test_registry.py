"""What the log's kernel knows of resources (eventlog/registry.py): the threads' event types,
and events of a type no resource registered, told apart from the others."""

import pytest

import service.resources  # noqa: F401  (registers the threads resource)
from eventlog import registry
from eventlog.registry import EventType, Projection, Resource, event_type, known
from service.threads import events as ev
from service.threads.projection import RESOURCE

from ..helpers import logged


def test_the_threads_event_types_are_published_under_their_openai_names():
    for name, published_as in ev.EVENT_NAMES.items():
        kind = event_type(name)
        assert kind is not None, name
        assert kind.published_as == published_as
    assert event_type("ThreadCreated").published_as == "thread.created"
    assert event_type("ThreadArchived") is None
    assert {"thread_view", "message_view"} <= set(registry.views())


def test_known_splits_the_unknown_types_off_in_order():
    batch = [
        logged(ev.THREAD_CREATED, at=(1, 1)),
        logged("ThreadArchived", at=(1, 2)),
        logged(ev.MESSAGE_CREATED, at=(2, 3)),
        logged("ConversationCreated", category="conversation", at=(3, 4)),
        logged(ev.THREAD_DELETED, at=(3, 5)),
    ]
    ours, unknown = known(batch)
    assert [e.global_position for e in ours] == [1, 3, 5]
    assert [e.global_position for e in unknown] == [2, 4]
    assert known([]) == ([], [])
    assert known(iter(batch[:1])) == (batch[:1], [])


def test_registering_the_same_resource_again_changes_nothing():
    before = (registry.projections(), registry.event_type(ev.THREAD_CREATED))
    registry.register(RESOURCE)
    assert (registry.projections(), registry.event_type(ev.THREAD_CREATED)) == before


def test_another_resource_may_not_take_a_registered_name():
    taken = EventType(ev.THREAD_CREATED, "thread.created", lambda event: {})
    with pytest.raises(ValueError, match="event type 'ThreadCreated' is registered twice"):
        registry.register(Resource(category="other", event_types=(taken,), projections=()))
    view = Projection("thread_view", "other_apply", frozenset(), lambda events: {})
    fresh = EventType("OtherCreated", "other.created", lambda event: {})
    with pytest.raises(ValueError, match="view 'thread_view' is registered twice"):
        registry.register(Resource(category="other", event_types=(fresh,), projections=(view,)))
    # Refused whole: its other event type is not registered either.
    assert registry.event_type("OtherCreated") is None
