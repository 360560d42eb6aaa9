"""One run of the bench: what it starts, what it measures, in which order.

The run, in order (each step's why is beside its code):
 1. a fresh database and Redis prefix; migrations; the bare endpoint;
 2. small seed in SQL (a 20-message and a 10k-message thread, ~10k messages in the table);
    threadlog started; list throughput on both threads;
 3. create throughput at full load, then creates at half that rate with a Redis subscriber
    timing create-to-subscriber latency;
 4. threadlog stopped, the large seed (a 100k-message thread, ~1M messages in the table) in
    SQL, threadlog started again: the projector's catch-up is the rebuild rate; list throughput
    on the 100k thread;
 5. peak RSS of both servers; everything stopped and removed, also on Ctrl-C or failure.

Every scenario runs threadlog and bare alternately with the same duration and concurrency.
"""

import argparse
import asyncio
import math
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
import asyncpg
import orjson
import redis.asyncio as redis

from . import db, load, plans, profile, seed
from .cpu import CpuMeter, is_named
from .disk import FlushProbe
from .latency import PacedResult, paced_creates
from .procs import REPO, Server, bare_server, free_port, threadlog_server

VIEW_TABLES = ["events", "stream_heads", "thread_view", "message_view", "bare_message_view"]


def say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def _combine(results: list[load.RunResult]) -> load.RunResult:
    """Rounds of one side: counts added, percentiles as the median of the rounds'."""
    errors: Counter = Counter()
    for r in results:
        errors.update(r.errors)
    return load.RunResult(
        ok=sum(r.ok for r in results),
        seconds=sum(r.seconds for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        errors=errors,
        loadgen=results[0].loadgen,
    )


def _mean(dicts: list[dict[str, float]]) -> dict[str, float]:
    keys = {k for d in dicts for k in d}
    return {k: statistics.fmean(d.get(k, 0.0) for d in dicts) for k in sorted(keys)}


async def _redis_pid(url: str) -> int | None:
    """The Redis server's pid when it runs on this machine (loopback), for its CPU time."""
    client = redis.from_url(url)
    try:
        pid = (await client.info("server")).get("process_id")
    finally:
        await client.aclose()
    return pid if pid and is_named(pid, ("redis", "valkey")) else None


def _describe(r: load.RunResult) -> str:
    errors = ", ".join(f"{k}: {v}" for k, v in r.errors.items()) or "no errors"
    return f"{r.rate:,.0f} req/s, p50 {r.p50_ms:.2f} ms, p99 {r.p99_ms:.2f} ms ({errors})"


class Bench:
    """One run: what it started (to stop it) and what it measured (to print it)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.name = "threadlog_bench_" + secrets.token_hex(4)
        self.log_dir = Path(tempfile.mkdtemp(prefix=self.name + "-"))
        self.api_key = "sk-bench-" + secrets.token_hex(8)
        self.dsn: str | None = None
        self.conn: asyncpg.Connection | None = None
        self.ours: Server | None = None
        self.bare: Server | None = None
        self.runs: dict[str, dict[str, load.RunResult]] = {}
        self.paced: dict[str, PacedResult] = {}
        self.facts: dict[str, object] = {}
        self.rss: dict[str, float | None] = {}
        self.cpu: dict[str, dict[str, dict[str, float]]] = {}
        self.plans: dict[str, dict] = {}
        self.meter: CpuMeter

    # Set-up and tear-down

    async def start_bare(self) -> None:
        self.bare = bare_server(
            free_port(),
            self.log_dir,
            database_url=self.dsn,
            redis_url=self.args.redis_url,
            stream=f"{self.name}:bare:events",
        )
        self.bare.start()
        await self.bare.wait_ready()

    async def start_ours(self) -> None:
        self.ours = threadlog_server(
            free_port(),
            self.log_dir,
            database_url=self.dsn,
            redis_url=self.args.redis_url,
            prefix=self.name,
            api_key=self.api_key,
            processes=self.args.processes,
        )
        self.ours.start()

    async def migrate(self) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "service",
            "migrate",
            cwd=REPO,
            env={**os.environ, "DATABASE_URL": self.dsn},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 120)
        if proc.returncode != 0:
            raise RuntimeError(f"threadlog migrate failed:\n{out.decode(errors='replace')}")

    async def cleanup(self, failed: bool) -> None:
        for server in (self.ours, self.bare):
            if server is not None:
                try:
                    server.stop()
                except Exception as exc:
                    say(f"could not stop {server.name}: {exc!r}")
        if self.conn is not None:
            await self.conn.close(timeout=5)
        if self.dsn is not None:
            try:
                await db.drop_database(self.args.database_url, self.name)
            except Exception as exc:
                say(f"could not drop database {self.name}: {exc!r}")
        try:
            await db.delete_keys(self.args.redis_url, self.name)
        except Exception as exc:
            say(f"could not delete Redis keys {self.name}:*: {exc!r}")
        if failed:
            say(f"server logs kept in {self.log_dir}")
        else:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    # Scenarios

    async def side_by_side(self, key: str, targets: dict[str, load.Target], settle=None) -> None:
        """Both sides, alternately (ours first in even rounds, bare first in odd ones)."""
        a = self.args
        results: dict[str, list[load.RunResult]] = {name: [] for name in targets}
        spent: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for round_ in range(a.rounds):
            order = list(targets) if round_ % 2 == 0 else list(reversed(targets))
            for name in order:
                if a.warmup > 0:
                    await load.run(targets[name], a.concurrency, a.warmup, a.loadgen)
                server = self.server(name)
                before = await self.meter.snapshot(server.pid)
                result = await load.run(targets[name], a.concurrency, a.duration, a.loadgen)
                if settle is not None:
                    await settle()
                after = await self.meter.snapshot(server.pid)
                spent[name].append(CpuMeter.per_request(before, after, result.ok))
                say(f"{key} {name}: {_describe(result)}")
                results[name].append(result)
        self.runs[key] = {name: _combine(rs) for name, rs in results.items()}
        self.cpu[key] = {name: _mean(ds) for name, ds in spent.items()}

    def server(self, name: str) -> Server:
        server = self.ours if name == "threadlog" else self.bare
        assert server is not None
        return server

    async def caught_up(self) -> None:
        """Projector and relay at the log's end: nothing left over competes with the next run."""
        await db.wait_caught_up(self.conn, ("projector", "relay"), within=300)

    def list_targets(self, thread_id: str) -> dict[str, load.Target]:
        path = [f"/v1/threads/{thread_id}/messages?limit=20"]
        headers = {"Authorization": f"Bearer {self.api_key}"}
        return {
            "threadlog": load.Target("threadlog", self.ours.url, "GET", path, None, headers),
            "bare": load.Target("bare", self.bare.url, "GET", path, None, headers),
        }

    def create_targets(self, thread_ids: list[str]) -> dict[str, load.Target]:
        paths = load.cycle_paths(thread_ids, "/messages")
        body = orjson.dumps({"role": "user", "content": seed.TEXT})
        # The same bytes to both; bare ignores the key.
        headers = {"Authorization": f"Bearer {self.api_key}"}
        return {
            "threadlog": load.Target("threadlog", self.ours.url, "POST", paths, body, headers),
            "bare": load.Target("bare", self.bare.url, "POST", paths, body, headers),
        }

    async def create_threads(self, count: int) -> list[str]:
        """Threads for the create scenarios, made through the API as a client would."""
        headers = {"Authorization": f"Bearer {self.api_key}"}
        ids = []
        async with aiohttp.ClientSession(headers=headers) as session:
            for _ in range(count):
                async with session.post(self.ours.url + "/v1/threads", json={}) as resp:
                    if resp.status != 200:
                        raise RuntimeError(f"create thread: {resp.status} {await resp.text()}")
                    ids.append((await resp.json())["id"])
        return ids

    async def paced_scenario(self, thread_ids: list[str], rate: float) -> None:
        a = self.args
        sides = {
            "threadlog": (self.ours.url, f"{self.name}:events"),
            "bare": (self.bare.url, f"{self.name}:bare:events"),
        }
        headers = {"Authorization": f"Bearer {self.api_key}"}
        collected: dict[str, list[PacedResult]] = {name: [] for name in sides}
        spent: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
        data_directory = await self._data_directory()
        for round_ in range(a.rounds):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for name in order:
                url, stream = sides[name]
                before = await self.meter.snapshot(self.server(name).pid)
                with FlushProbe(data_directory) as probe:
                    r = await paced_creates(
                        url,
                        thread_ids,
                        headers,
                        rate=rate,
                        seconds=a.duration,
                        redis_url=a.redis_url,
                        stream=stream,
                    )
                r.flushes = probe.result()
                await self.caught_up()
                after = await self.meter.snapshot(self.server(name).pid)
                spent[name].append(CpuMeter.per_request(before, after, r.ok))
                errors = ", ".join(f"{k}: {v}" for k, v in r.errors.items()) or "no errors"
                say(
                    f"paced {name} at {rate:.0f}/s: create p50 {r.create_p50_ms:.2f} ms "
                    f"p99 {r.create_p99_ms:.2f} ms; to subscriber p50 {r.subscriber_p50_ms:.2f}"
                    f" ms p99 {r.subscriber_p99_ms:.2f} ms; sent {r.sent}, ok {r.ok}, seen "
                    f"{r.seen}, skipped {r.skipped} ({errors})"
                )
                collected[name].append(r)
        self.cpu["paced"] = {name: _mean(ds) for name, ds in spent.items()}
        # Rounds: the median round by create-to-subscriber p99.
        for name, rs in collected.items():
            rs.sort(key=lambda r: r.subscriber_p99_ms)
            self.paced[name] = rs[len(rs) // 2]

    async def _data_directory(self) -> str | None:
        """Postgres's data directory when this process may know it (a superuser, or a member
        of pg_read_all_settings); the flush probe writes there only when it is on this host."""
        try:
            return await self.conn.fetchval("show data_directory")
        except asyncpg.PostgresError:
            return None

    async def rebuild(self, since: tuple[int, int]) -> dict[str, float]:
        """Starts threadlog and times its projector's catch-up over the seeded log.

        The rate counts from the first checkpoint move seen to the end, so the process's own
        start (imports, migrations, pool) is not in it; the total from start is kept too."""
        end = await db.log_end(self.conn)
        started = time.monotonic()
        await self.start_ours()
        first: tuple[float, tuple[int, int]] | None = None
        deadline = started + 3600
        while True:
            position = await db.checkpoint(self.conn, "projector")
            now = time.monotonic()
            if first is None and position > since:
                first = (now, position)
            if position >= end:
                break
            if self.ours.proc.poll() is not None:
                raise RuntimeError(f"threadlog exited during the rebuild:\n{self.ours.log_tail()}")
            if now > deadline:
                raise RuntimeError("the projector did not catch up within an hour")
            await asyncio.sleep(0.05)
        if first is None:  # caught up before the first look
            first = (started, since)
        events = await self.conn.fetchval(
            "select count(*) from events where (transaction_id, global_position) > "
            "($1::text::xid8, $2) and (transaction_id, global_position) <= ($3::text::xid8, $4)",
            str(first[1][0]),
            first[1][1],
            str(end[0]),
            end[1],
        )
        total = await self.conn.fetchval(
            "select count(*) from events where (transaction_id, global_position) > "
            "($1::text::xid8, $2)",
            str(since[0]),
            since[1],
        )
        seconds = now - first[0]
        await self.ours.wait_ready()
        return {
            "events": total,
            "rate": events / seconds if seconds > 0 else math.nan,
            "seconds_from_start": now - started,
        }

    async def profile_runs(
        self, out_dir: Path, create_ids: list[str], list_id: str, rate: float
    ) -> None:
        """Profiled runs of full-load creates, lists, and creates paced at `rate` (where the
        paced target's time goes: per-batch costs weigh more there than at full load)."""
        a = self.args
        headers = {"Authorization": f"Bearer {self.api_key}"}

        def paced():
            return paced_creates(
                self.ours.url,
                create_ids,
                headers,
                rate=rate,
                seconds=a.duration,
                redis_url=a.redis_url,
                stream=f"{self.name}:events",
            )

        create, listing = self.create_targets(create_ids), self.list_targets(list_id)
        runs = [
            ("create", lambda: load.run(create["threadlog"], a.concurrency, a.duration, a.loadgen)),
            ("list", lambda: load.run(listing["threadlog"], a.concurrency, a.duration, a.loadgen)),
            ("paced", paced),
        ]
        summaries = []
        for label, drive in runs:
            raw = out_dir / f"{label}.txt"
            spy = await profile.record(self.ours.pid, a.duration, raw)
            try:
                await asyncio.sleep(0.5)  # py-spy attached before the load starts
                await drive()
                _, err = await asyncio.wait_for(spy.communicate(), a.duration + 60)
            finally:
                if spy.returncode is None:
                    spy.kill()
                    await spy.wait()
            if spy.returncode != 0 or not raw.exists():
                say(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
                continue
            summaries.append(profile.summarize(raw, seconds=a.duration))
            await self.caught_up()
        (out_dir / "summary.txt").write_text("\n\n".join(summaries) + "\n")
        say(f"profiles in {out_dir} (raw py-spy stacks and summary.txt)")
        print("\n\n".join(summaries), file=sys.stderr)

    # The run

    async def run(self) -> None:
        a = self.args
        say(f"database {self.name}, Redis prefix {self.name}:, load generator {a.loadgen}")
        self.dsn = await db.create_database(a.database_url, self.name)
        self.conn = await asyncpg.connect(self.dsn)
        self.meter = CpuMeter(self.conn, self.name, await _redis_pid(a.redis_url))
        await self.migrate()
        await self.start_bare()

        # Small: a short thread and a long one, ~10k messages in the table.
        short = seed.Thread(seed.new_thread_id(), a.small_thread)
        medium = seed.Thread(seed.new_thread_id(), a.medium_thread)
        named = short.messages + medium.messages
        threads = [short, medium, *seed.filler(a.small_table, 0, named, a.filler_thread)]
        s1 = await seed.seed_threadlog(self.conn, threads, project="bench")
        b1 = await seed.seed_bare(self.conn, threads)
        say(f"small seed: {s1.rows:,} events in {s1.seconds:.1f} s; bare {b1.rows:,} rows")
        await self.start_ours()
        await self.ours.wait_ready()
        await self.caught_up()
        await db.settle(self.conn, VIEW_TABLES)
        self.facts["small_table_messages"] = await self._count("message_view")
        self.facts["small_table_bare"] = await self._count("bare_message_view")

        await self.side_by_side("list_short", self.list_targets(short.id))
        await self.side_by_side("list_medium", self.list_targets(medium.id))
        self.plans["list_short"] = await plans.list_plans(self.conn, short.id, "bench")
        self.plans["list_medium"] = await plans.list_plans(self.conn, medium.id, "bench")

        # Creates: full load, then half of threadlog's maximum, paced, with a subscriber.
        create_ids = await self.create_threads(a.create_threads)
        await self.caught_up()
        await self.side_by_side("create", self.create_targets(create_ids), settle=self.caught_up)
        rate = a.rate or max(1.0, round(self.runs["create"]["threadlog"].rate / 2))
        await self.paced_scenario(create_ids, rate)
        if a.profile:
            await self.profile_runs(Path(a.profile), create_ids, medium.id, rate)
        self.rss["threadlog_small"] = self.ours.peak_rss_mb()

        # Large: threadlog stopped while its log is seeded, then started to rebuild the views.
        await self.caught_up()
        since = await db.checkpoint(self.conn, "projector")
        self.ours.stop()
        large = seed.Thread(seed.new_thread_id(), a.large_thread)
        present = await self._count("message_view")
        fill = seed.filler(a.large_table, present, large.messages, a.filler_thread)
        s2 = await seed.seed_threadlog(self.conn, [large, *fill], project="bench")
        present_bare = await self._count("bare_message_view")
        fill_bare = seed.filler(a.large_table, present_bare, large.messages, a.filler_thread)
        b2 = await seed.seed_bare(self.conn, [large, *fill_bare])
        say(
            f"large seed: {s2.rows:,} events in {s2.seconds:.1f} s "
            f"({s2.rows / s2.seconds:,.0f}/s); bare {b2.rows:,} rows in {b2.seconds:.1f} s"
        )
        self.facts["seed_events_per_second"] = s2.rows / s2.seconds
        self.plans["read_log"] = await plans.read_log_plan(self.conn, since)
        rebuilt = await self.rebuild(since)
        say(
            f"rebuild: {rebuilt['events']:,} events at {rebuilt['rate']:,.0f} events/s "
            f"({rebuilt['seconds_from_start']:.1f} s from process start)"
        )
        self.facts["rebuild"] = rebuilt
        await self.caught_up()
        await db.settle(self.conn, VIEW_TABLES)
        self.facts["large_table_messages"] = await self._count("message_view")
        self.facts["large_table_bare"] = await self._count("bare_message_view")
        await self.side_by_side("list_large", self.list_targets(large.id))
        self.plans["list_large"] = await plans.list_plans(self.conn, large.id, "bench")
        self.rss["threadlog_large"] = self.ours.peak_rss_mb()
        self.rss["bare"] = self.bare.peak_rss_mb()
        self.facts["rate"] = rate

    async def _count(self, table: str) -> int:
        return await self.conn.fetchval(f"select count(*) from {table}")
