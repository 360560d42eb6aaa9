"""Listing a stream's objects (service/domain/listing.py): the query string read, and how a page
is cut from `order`, `after` and `before`."""

import pytest
from multidict import MultiDict

from service.domain.errors import InvalidRequest
from service.domain.listing import (
    LIMIT_DEFAULT,
    LIMIT_MAX,
    ListQuery,
    PagePlan,
    cursor_not_in,
    one_value,
    parse_list_query,
    plan_page,
)


def _query(*pairs: tuple[str, str]) -> ListQuery:
    return parse_list_query(MultiDict(pairs))


def _refused(*pairs: tuple[str, str]) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as refused:
        _query(*pairs)
    assert refused.value.status == 400
    return refused.value


def test_defaults_are_twenty_newest_first():
    assert _query() == ListQuery(limit=LIMIT_DEFAULT, order="desc", after=None, before=None)
    assert LIMIT_DEFAULT == 20
    # Empty values are values left out.
    assert _query(("limit", ""), ("order", ""), ("after", ""), ("before", "")) == _query()


def test_a_full_query():
    assert _query(("limit", "7"), ("order", "asc"), ("after", "msg_a"), ("before", "msg_b")) == (
        ListQuery(limit=7, order="asc", after="msg_a", before="msg_b")
    )


@pytest.mark.parametrize("limit", [1, LIMIT_MAX])
def test_limits_at_the_bounds(limit):
    assert _query(("limit", str(limit))).limit == limit


@pytest.mark.parametrize(
    ("limit", "code", "message"),
    [
        (
            "0",
            "integer_below_min_value",
            "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 "
            "instead.",
        ),
        ("-3", "integer_below_min_value", None),
        (
            "101",
            "integer_above_max_value",
            "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 101 "
            "instead.",
        ),
        ("abc", "invalid_type", "Invalid 'limit': expected an integer, but got 'abc' instead."),
        ("2.5", "invalid_type", None),
    ],
)
def test_a_limit_out_of_bounds_or_not_an_integer(limit, code, message):
    error = _refused(("limit", limit))
    assert (error.param, error.code) == ("limit", code)
    if message is not None:
        assert error.message == message


@pytest.mark.parametrize("order", ["up", "ASC", "newest"])
def test_an_order_other_than_asc_or_desc(order):
    error = _refused(("order", order))
    assert (error.param, error.code) == ("order", "invalid_value")
    assert error.message == f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'."


def test_the_last_value_of_a_repeated_name_wins():
    assert _query(("limit", "5"), ("limit", "7")).limit == 7
    assert _query(("order", "desc"), ("order", "asc")).order == "asc"
    assert _query(("after", "msg_a"), ("after", "msg_b")).after == "msg_b"
    # A bad value before the last one does not count.
    assert _query(("limit", "abc"), ("limit", "3")).limit == 3
    assert _refused(("limit", "3"), ("limit", "abc")).code == "invalid_type"


@pytest.mark.parametrize("name", ["after", "before", "order", "limit"])
def test_a_null_character_in_a_value(name):
    error = _refused((name, "msg_\x00"))
    assert (error.param, error.code) == (name, "invalid_value")


def test_one_value():
    query = MultiDict([("run_id", "run_1"), ("run_id", "run_2")])
    assert one_value(query, "run_id") == "run_2"
    assert one_value(query, "missing") is None


def _plan(order: str, after: str | None = None, before: str | None = None) -> PagePlan:
    return plan_page(ListQuery(limit=20, order=order, after=after, before=before))


@pytest.mark.parametrize(
    ("order", "after", "before", "plan"),
    [
        # Ascending: `after` is the lower bound, `before` the upper.
        ("asc", None, None, PagePlan("up", None, None, False)),
        ("asc", "a", None, PagePlan("up", "a", None, False)),
        # `before` alone: the page just below it, scanned down from it and reversed.
        ("asc", None, "b", PagePlan("down", None, "b", True)),
        # Both: what lies between, from the `after` side.
        ("asc", "a", "b", PagePlan("up", "a", "b", False)),
        # Descending: `after` is the upper bound, `before` the lower.
        ("desc", None, None, PagePlan("down", None, None, False)),
        ("desc", "a", None, PagePlan("down", None, "a", False)),
        ("desc", None, "b", PagePlan("up", "b", None, True)),
        ("desc", "a", "b", PagePlan("down", "b", "a", False)),
    ],
)
def test_plan_page(order, after, before, plan):
    assert _plan(order, after, before) == plan


def test_a_cursor_not_in_the_list():
    error = cursor_not_in("after", "msg_x", "a message of thread 'thread_y'")
    assert error.message == "Invalid 'after': 'msg_x' is not a message of thread 'thread_y'."
    assert (error.param, error.code, error.status) == ("after", "invalid_value", 400)
