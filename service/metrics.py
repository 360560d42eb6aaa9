"""Prometheus metrics of the API process."""

from prometheus_client import Counter

READ_YOUR_WRITES_TIMEOUTS = Counter(
    "threadlog_read_your_writes_timeouts_total",
    "Responses sent before the projector reached the request's version (bounded wait ran out).",
    ["operation"],
)
