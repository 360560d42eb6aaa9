"""The HTTP side's Prometheus metrics (the log's own are in eventlog/metrics.py): what
operators alert on (docs/operations.md lists each)."""

from functools import lru_cache

from prometheus_client import Counter, Histogram

from eventlog.metrics import LATENCY_BUCKETS

REQUESTS = Counter(
    "threadlog_http_requests_total", "HTTP requests answered.", ["route", "method", "status"]
)
REQUEST_SECONDS = Histogram(
    "threadlog_http_request_seconds",
    "Time to answer an HTTP request.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
READ_YOUR_WRITES_TIMEOUTS = Counter(
    "threadlog_read_your_writes_timeouts_total",
    "Responses sent before the projector reached the request's version (bounded wait ran out).",
    ["operation"],
)
SHED = Counter(
    "threadlog_shed_requests_total", "Requests refused to protect the service.", ["reason"]
)


@lru_cache(maxsize=1024)
def request_metrics(route: str, method: str, status: int):
    """The counter and histogram children of one route, method and status: looking labels up
    takes a lock and validates them, a few microseconds on every request otherwise. Routes are
    the app's own (unmatched paths share one); the bound covers made-up methods."""
    return REQUESTS.labels(route, method, str(status)), REQUEST_SECONDS.labels(route, method)
