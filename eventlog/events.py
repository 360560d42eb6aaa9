"""Events as the log holds them: appended to a stream, read back in commit order.

A stream is named by its category ("thread", "conversation") and its id (message-db's
stream_name is the same pair). What an event means is its resource's business (the registry);
here it is a type, data and metadata at a version of its stream.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from .upcasting import upcast


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended; its id is given at append time."""

    type: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """An event as read back from the log, in commit order."""

    global_position: int
    transaction_id: int
    stream_id: str
    category: str
    version: int
    event_id: UUID
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime

    @property
    def position(self) -> str:
        """The event's place in commit order, written like a Redis stream id."""
        return f"{self.transaction_id}-{self.global_position}"

    @property
    def project(self) -> str:
        return str(self.metadata.get("project", ""))

    @classmethod
    def from_log(cls, row: Any) -> "LoggedEvent":
        """From a row of the events table (any mapping), its data upcast to today's shape."""
        return cls(
            global_position=row["global_position"],
            transaction_id=row["transaction_id"],
            stream_id=row["stream_id"],
            category=row["category"],
            version=row["version"],
            event_id=row["event_id"],
            type=row["type"],
            data=upcast(row["type"], row["data"]),
            metadata=row["metadata"],
            recorded_at=row["recorded_at"],
        )
