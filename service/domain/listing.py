"""Listing what a stream holds (a thread's messages...): query parameters and how a page is cut.

Order is the stream's own order (the version of the event that created each object), never a
clock. `after` and `before` may come together (the official SDK merges `after` into the
original query): the page is then what lies between them, from the `after` side.
"""

from dataclasses import dataclass
from typing import Literal

from .errors import InvalidRequest

LIMIT_DEFAULT = 20
LIMIT_MAX = 100


@dataclass(frozen=True, slots=True)
class ListQuery:
    limit: int
    order: Literal["asc", "desc"]
    after: str | None
    before: str | None


@dataclass(frozen=True, slots=True)
class PagePlan:
    """How to scan (a view by position): direction, exclusive bounds, and whether the
    rows come back in the opposite order to the list's and must be reversed."""

    direction: Literal["up", "down"]
    lower_id: str | None
    upper_id: str | None
    reverse: bool


def one_value(query: object, name: str) -> str | None:
    """A query parameter's value (the last, when the name repeats), without U+0000."""
    values = query.getall(name, [])  # type: ignore[attr-defined]
    value = values[-1] if values else None
    if value is not None and "\x00" in value:
        raise InvalidRequest(
            f"Invalid '{name}': the value contains a null character (U+0000).",
            param=name,
            code="invalid_value",
        )
    return value


def parse_list_query(query: object) -> ListQuery:
    """Reads the query string (a multidict); the last value wins when a name repeats."""
    raw_limit = one_value(query, "limit")
    if raw_limit is None or raw_limit == "":
        limit = LIMIT_DEFAULT
    else:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise InvalidRequest(
                f"Invalid 'limit': expected an integer, but got '{raw_limit}' instead.",
                param="limit",
                code="invalid_type",
            ) from None
        if limit < 1:
            raise InvalidRequest(
                f"Invalid 'limit': integer below minimum value. Expected a value >= 1, but got "
                f"{limit} instead.",
                param="limit",
                code="integer_below_min_value",
            )
        if limit > LIMIT_MAX:
            raise InvalidRequest(
                f"Invalid 'limit': integer above maximum value. Expected a value <= {LIMIT_MAX}, "
                f"but got {limit} instead.",
                param="limit",
                code="integer_above_max_value",
            )
    order = one_value(query, "order") or "desc"
    if order not in ("asc", "desc"):
        raise InvalidRequest(
            f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.",
            param="order",
            code="invalid_value",
        )
    return ListQuery(
        limit=limit,
        order=order,  # type: ignore[arg-type]
        after=one_value(query, "after") or None,
        before=one_value(query, "before") or None,
    )


def plan_page(q: ListQuery) -> PagePlan:
    # In list order, `after` bounds the near side and `before` the far side. A `before` alone
    # asks for the page just before it, so the scan starts at the cursor and is reversed.
    backwards = q.before is not None and q.after is None
    if q.order == "asc":
        return PagePlan("down" if backwards else "up", q.after, q.before, backwards)
    return PagePlan("up" if backwards else "down", q.before, q.after, backwards)


def cursor_not_in(param: str, cursor: str, what: str) -> InvalidRequest:
    """A cursor that is not an object of the list: `what` says whose ("a message of thread
    'thread_...'")."""
    return InvalidRequest(
        f"Invalid '{param}': '{cursor}' is not {what}.",
        param=param,
        code="invalid_value",
    )
