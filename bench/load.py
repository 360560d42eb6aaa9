"""Load generation: closed-loop runs at a fixed concurrency, with wrk or a built-in client.

A run is N connections each sending its next request as soon as the last one answered, for a
fixed time, cycling through a list of paths (so creates spread over many threads, as real
traffic does). wrk (C, with a small generated Lua script) is preferred when installed: it costs
the shared two cores far less CPU than a Python client, which would otherwise cap the faster
side first and flatter the ratio. The built-in generator is the fallback: a minimal keep-alive
client on uvloop (bench/http.py), every request's latency kept. Measured here against the bare
list endpoint it reached 80-90% of wrk's rate (its own CPU is taken from the servers), so with
it the faster side's figures, and the ratios, come out somewhat flattered.
"""

import asyncio
import json
import math
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import http


@dataclass(frozen=True)
class Target:
    """What one run sends: one method and body, to paths taken in turn."""

    name: str
    base_url: str
    method: str
    paths: list[str]
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RunResult:
    ok: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: Counter = field(default_factory=Counter)
    loadgen: str = ""

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of an ascending list; NaN when empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


# Safety bound on requests per connection in one run, on top of the time bound.
MAX_REQUESTS_PER_CONNECTION = 1_000_000


async def builtin_run(target: Target, concurrency: int, seconds: float) -> RunResult:
    """A closed-loop run with bench.http: `concurrency` connections for `seconds`."""
    latencies: list[float] = []
    errors: Counter = Counter()
    headers = {"Content-Type": "application/json", **target.headers}
    raws = [
        http.prepare(target.base_url, target.method, p, headers, target.body) for p in target.paths
    ]
    started = time.perf_counter()
    deadline = started + seconds

    async def connection(offset: int) -> None:
        conn: http.Connection | None = None
        try:
            for i in range(offset, offset + MAX_REQUESTS_PER_CONNECTION * concurrency, concurrency):
                if time.perf_counter() >= deadline:
                    return
                t0 = time.perf_counter()
                try:
                    if conn is None:
                        conn = await http.Connection.open(target.base_url)
                    async with asyncio.timeout(10):
                        status, _ = await conn.request(raws[i % len(raws)])
                except (OSError, TimeoutError, http.HttpError) as exc:
                    errors["timeout" if isinstance(exc, TimeoutError) else type(exc).__name__] += 1
                    if conn is not None:
                        conn.close()
                        conn = None
                    await asyncio.sleep(0.01)  # no hot loop against a server that is down
                    continue
                if 200 <= status < 300:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors[f"HTTP {status}"] += 1
        finally:
            if conn is not None:
                conn.close()

    await asyncio.gather(*(connection(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return RunResult(
        ok=len(latencies),
        seconds=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        errors=errors,
        loadgen="built-in",
    )


WRK_SCRIPT = """
local paths = {%(paths)s}
local headers = {%(headers)s}
local body = %(body)s
local counter = 0

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end

function init(args)
  counter = offset or 0
end

function request()
  counter = counter + 1
  return wrk.format("%(method)s", paths[(counter %% #paths) + 1], headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal for ASCII


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


async def wrk_run(target: Target, concurrency: int, seconds: float, threads: int = 2) -> RunResult:
    """A closed-loop run with wrk; latencies are wrk's (all requests, as wrk counts them)."""
    headers = {"Content-Type": "application/json", **target.headers}
    script = WRK_SCRIPT % {
        "paths": ", ".join(_lua_string(p) for p in target.paths),
        "headers": ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()),
        "body": _lua_string(target.body.decode()) if target.body else "nil",
        "method": target.method,
    }
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        path = Path(tmp) / "run.lua"
        path.write_text(script)
        argv = [
            "wrk",
            f"-t{min(threads, concurrency)}",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(path),
            target.base_url,
        ]
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), seconds + 30)
        except BaseException as exc:  # a time-out, or the run being cancelled
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            if isinstance(exc, TimeoutError):
                raise RuntimeError(f"wrk did not finish within {seconds + 30:.0f} s") from None
            raise
    text = out.decode(errors="replace")
    line = next((x for x in text.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{text}")
    r = json.loads(line.removeprefix("BENCH_JSON "))
    errors = Counter(
        {k: r[k] for k in ("connect", "read", "write", "timeout") if r[k]}
        | ({"HTTP non-2xx": r["status"]} if r["status"] else {})
    )
    return RunResult(
        ok=r["requests"] - r["status"],
        seconds=r["duration_us"] / 1e6,
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        errors=errors,
        loadgen="wrk",
    )


async def run(target: Target, concurrency: int, seconds: float, loadgen: str) -> RunResult:
    if loadgen == "wrk":
        return await wrk_run(target, concurrency, seconds)
    return await builtin_run(target, concurrency, seconds)


def cycle_paths(thread_ids: list[str], suffix: str) -> list[str]:
    return [f"/v1/threads/{t}{suffix}" for t in thread_ids]
