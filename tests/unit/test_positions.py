"""Places in the log's commit order (eventlog/positions.py): written like Redis stream ids,
ordered by transaction first."""

import pytest

from eventlog.positions import START, LogPosition

from ..helpers import logged


def test_parse_and_write():
    assert LogPosition.parse("12-34") == LogPosition(12, 34)
    assert LogPosition.parse("12-34") == (12, 34)
    assert str(LogPosition(12, 34)) == "12-34"
    assert str(START) == "0-0" and LogPosition.parse("0-0") == START
    big = LogPosition(2**40, 2**62)
    assert LogPosition.parse(str(big)) == big


@pytest.mark.parametrize("text", ["x-1", "1-x", "", "-"])
def test_what_is_not_a_position(text):
    with pytest.raises(ValueError):
        LogPosition.parse(text)


def test_commit_order_is_the_transaction_first_then_the_position():
    assert LogPosition(2, 1) > LogPosition(1, 99)
    assert LogPosition(1, 2) < LogPosition(1, 3)
    # Numbers, not text: "9-10" comes after "9-9".
    assert LogPosition.parse("9-10") > LogPosition.parse("9-9")
    assert LogPosition.parse("10-1") > LogPosition.parse("9-99")
    written = ["10-1", "9-99", "9-10", "0-0", "9-9"]
    assert [str(p) for p in sorted(map(LogPosition.parse, written))] == [
        "0-0",
        "9-9",
        "9-10",
        "9-99",
        "10-1",
    ]
    assert all(LogPosition.parse(p) > START for p in written if p != "0-0")


def test_an_events_position():
    event = logged("ThreadCreated", at=(41, 7))
    assert LogPosition.of(event) == LogPosition(41, 7)
    assert str(LogPosition.of(event)) == event.position == "41-7"
