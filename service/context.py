"""What every operation is given and gives back: the process's stores, who is asking, and the
answer with whether the projector had reached it."""

from dataclasses import dataclass, field
from typing import Any

from eventlog.database import Pool
from projections.consumer import LocalConsumers

from .domain.errors import ApiError
from .domain.render import Shape
from .store.projection_wait import ProjectionWait


@dataclass(frozen=True)
class Context:
    pool: Pool
    projection: ProjectionWait
    read_your_writes_timeout: float
    # The projector and relay when they run in this process, woken directly after an append.
    consumers: LocalConsumers = field(default_factory=LocalConsumers)
    # A read replica for retrieve and list (THREADLOG_READ_DATABASE_URL), or None.
    replica: Pool | None = None


@dataclass(frozen=True)
class Caller:
    """Who is asking, and how: the project, the response shape, and idempotency."""

    project: str
    shape: Shape = "v2"
    request_id: str = ""
    idempotency_key: str | None = None
    fingerprint: str | None = None

    def event_metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"project": self.project, "request_id": self.request_id}
        if self.idempotency_key is not None:
            meta["idempotency_key"] = self.idempotency_key
            meta["request_fingerprint"] = self.fingerprint
        return meta


@dataclass(frozen=True, slots=True)
class Answer:
    body: dict[str, Any]
    # False when the bounded wait for the projector ran out and the body was built without it.
    projected: bool = True


class Unavailable(ApiError):
    status = 503
    type = "server_error"
