"""The log's own Prometheus metrics (the HTTP side has its own in service/metrics.py);
docs/operations.md lists each."""

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

APPEND_SECONDS = Histogram(
    "threadlog_append_seconds", "Time to append events to the log.", buckets=LATENCY_BUCKETS
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
UNKNOWN_EVENTS = Counter(
    "threadlog_unknown_events_total",
    "Events of a type no resource of this release knows (written by a newer one), skipped.",
    ["consumer", "type"],
)
