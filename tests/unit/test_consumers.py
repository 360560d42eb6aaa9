"""A log consumer fed by its process: which handed events it takes, and when a poke wakes it
(no connection: the consumer's own bookkeeping, as tests/test_wakeups.py sees it at work)."""

import asyncio

from eventlog.events import LoggedEvent
from eventlog.positions import LogPosition
from projections.consumer import LocalConsumers, LogConsumer

from ..helpers import logged


def _events(*positions: tuple[int, int]) -> list[LoggedEvent]:
    return [logged("ThreadCreated", version=n, at=at) for n, at in enumerate(positions, 1)]


def test_a_fed_consumer_takes_exactly_what_continues_from_its_position():
    consumer = LogConsumer("unused", batch_size=3)
    consumer._wake = asyncio.Event()  # following
    first = _events((10, 1), (10, 2), (11, 3))
    second = _events((12, 4), (13, 5))
    consumer._hand(LogPosition(9, 0), first)
    consumer._hand(LogPosition(11, 3), second)

    # Part of the first segment is behind it: only the rest, then the next, up to a batch.
    consumer.position = LogPosition(10, 1)
    consumer._wake.clear()
    taken = consumer._take_handed()
    assert [e.global_position for e in taken] == [2, 3, 4]
    assert consumer._wake.is_set(), "what did not fit waits for a wake-up"
    consumer.position = LogPosition(12, 4)
    assert [e.global_position for e in consumer._take_handed()] == [5]
    consumer.position = LogPosition(13, 5)
    assert consumer._take_handed() is None

    # A segment that starts past its position leaves a gap: it reads the log itself.
    consumer._hand(LogPosition(20, 9), _events((21, 10)))
    assert consumer._take_handed() is None
    assert not consumer._handed

    # Segments wholly behind it are not kept, nor are any while it does not follow the log.
    consumer._hand(LogPosition(9, 0), first)
    assert not consumer._handed
    consumer._hand(LogPosition(13, 5), _events((14, 6)))
    assert [e.global_position for e in consumer._take_handed()] == [6]
    consumer._wake = None
    consumer._hand(LogPosition(14, 6), _events((15, 7)))
    assert not consumer._handed


def test_a_fed_consumer_ahead_of_its_upstream_is_woken_directly():
    upstream, fed = LogConsumer("unused"), LogConsumer("unused")
    upstream.feed(fed)
    fed._wake, fed.position = asyncio.Event(), LogPosition(10, 5)
    assert not fed.woken_by_upstream, "its upstream does not follow the log"
    upstream._wake, upstream.read_to = asyncio.Event(), LogPosition(9, 4)
    assert not fed.woken_by_upstream, "its upstream has yet to catch up with the log"
    upstream._caught_up = True
    assert not fed.woken_by_upstream, "its upstream has yet to read as far as it stands"
    LocalConsumers((upstream, fed)).poke()
    assert fed._wake.is_set()

    upstream.read_to = LogPosition(10, 5)
    fed._wake.clear()
    assert fed.woken_by_upstream
    LocalConsumers((upstream, fed)).poke()
    fed._on_notify()
    assert not fed._wake.is_set(), "woken although its upstream reads for it"
    assert upstream._wake.is_set()


def test_a_poke_for_an_append_the_consumer_has_already_read_does_not_wake_it():
    consumer = LogConsumer("unused")
    consumer._wake, consumer.read_to = asyncio.Event(), LogPosition(10, 5)
    LocalConsumers((consumer,)).poke(LogPosition(10, 5))
    consumer.poke(LogPosition(9, 7))
    assert not consumer._wake.is_set(), "woken to read what it has read"
    consumer.poke(LogPosition(11, 6))
    assert consumer._wake.is_set()
    consumer._wake.clear()
    consumer.poke()
    assert consumer._wake.is_set(), "a poke without a position must always wake it"
