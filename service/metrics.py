"""Prometheus metrics: what operators alert on (docs/operations.md lists each)."""

from functools import lru_cache

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter(
    "threadlog_http_requests_total", "HTTP requests answered.", ["route", "method", "status"]
)
REQUEST_SECONDS = Histogram(
    "threadlog_http_request_seconds",
    "Time to answer an HTTP request.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
APPEND_SECONDS = Histogram(
    "threadlog_append_seconds", "Time to append events to the log.", buckets=LATENCY_BUCKETS
)
READ_YOUR_WRITES_TIMEOUTS = Counter(
    "threadlog_read_your_writes_timeouts_total",
    "Responses sent before the projector reached the request's version (bounded wait ran out).",
    ["operation"],
)
SHED = Counter(
    "threadlog_shed_requests_total", "Requests refused to protect the service.", ["reason"]
)
CONSUMER_LAG_EVENTS = Gauge(
    "threadlog_consumer_lag_events",
    "Events committed to the log that a consumer (projector, relay) has not processed yet.",
    ["consumer"],
)
CONSUMER_LAG_SECONDS = Gauge(
    "threadlog_consumer_lag_seconds",
    "Age of the oldest event a consumer (projector, relay) has not processed yet.",
    ["consumer"],
)
PUBLISH_ERRORS = Counter(
    "threadlog_relay_publish_errors_total", "Relay batches that Redis refused or could not take."
)
BATCHES = Counter(
    "threadlog_consumer_batches_total", "Batches applied by a consumer.", ["consumer"]
)
LOG_READS = Counter(
    "threadlog_consumer_log_reads_total",
    "Reads of the log a consumer made itself (not handed over by another in its process).",
    ["consumer"],
)


@lru_cache(maxsize=1024)
def request_metrics(route: str, method: str, status: int):
    """The counter and histogram children of one route, method and status: looking labels up
    takes a lock and validates them, a few microseconds on every request otherwise. Routes are
    the app's own (unmatched paths share one); the bound covers made-up methods."""
    return REQUESTS.labels(route, method, str(status)), REQUEST_SECONDS.labels(route, method)
