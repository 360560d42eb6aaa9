"""Places in the log's commit order: (transaction id, global position)."""

from typing import NamedTuple, Protocol


class Positioned(Protocol):
    """Anything that stands at a place in the log: an event, or an append's last event."""

    transaction_id: int
    global_position: int


class LogPosition(NamedTuple):
    """A place in commit order, written like a Redis stream id ("<transaction>-<position>")."""

    transaction_id: int
    global_position: int

    @classmethod
    def of(cls, event: Positioned) -> "LogPosition":
        """Where an event (or an append's last event) stands in commit order."""
        return cls(event.transaction_id, event.global_position)

    @classmethod
    def parse(cls, text: str) -> "LogPosition":
        """From "<transaction>-<position>", or "<transaction>" alone, which Redis reads as
        "<transaction>-0" (so "0" is the start, as in XREAD)."""
        tx, dash, pos = text.partition("-")
        return cls(int(tx), int(pos) if dash else 0)

    def __str__(self) -> str:
        return f"{self.transaction_id}-{self.global_position}"


START = LogPosition(0, 0)
