"""The disk under Postgres, watched while the paced creates run.

Every acknowledged create waits for a WAL flush, threadlog's and bare's alike. On a virtual
disk a flush now and then takes tens or hundreds of milliseconds (seen here: 1.5 s once in
20 s), and every create in flight waits behind it: a p99 over such a run says more about the
disk than about either server. So beside each paced run a thread does what a commit does, an
8 kB write and an fdatasync, every 10 ms, in Postgres's data directory, and the report gives
their latencies; at 100 flushes a second it adds little to the load.
"""

import os
import threading
import time
from dataclasses import dataclass

from .load import percentile

INTERVAL = 0.01
STALL_MS = 10.0


@dataclass(frozen=True)
class Flushes:
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    # Flushes that took longer than STALL_MS: each held up every create in flight.
    stalls: int


class FlushProbe:
    """`with FlushProbe(directory) as probe: ...`, then `probe.result()`; a directory it cannot
    write (Postgres on another host, or no permission) leaves it with no result."""

    def __init__(self, directory: str | None) -> None:
        self.directory = directory
        self._times: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "FlushProbe":
        if self.directory and os.access(self.directory, os.W_OK):
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        path = os.path.join(self.directory, f"threadlog_bench_flush_probe_{os.getpid()}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        block = b"\0" * 8192
        try:
            while not self._stop.wait(INTERVAL):
                os.pwrite(fd, block, 0)
                started = time.perf_counter()
                os.fdatasync(fd)
                self._times.append((time.perf_counter() - started) * 1000)
        finally:
            os.close(fd)
            os.unlink(path)

    def result(self) -> Flushes | None:
        if not self._times:
            return None
        times = sorted(self._times)
        stalls = sum(t > STALL_MS for t in times)
        return Flushes(len(times), percentile(times, 50), percentile(times, 99), times[-1], stalls)
