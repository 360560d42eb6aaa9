"""The one table: threadlog and bare side by side, their ratio, and the issue's targets.

Printed as a Markdown table, so the output of a run pastes as it is into docs/performance.md.
A ratio is the figure to trust on a shared machine (both sides ran alternately, under the same
noise); the absolute figures say what this machine did during this run.
"""

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from . import plans
from .disk import INTERVAL, STALL_MS

if TYPE_CHECKING:
    from .run import Bench


@dataclass(frozen=True)
class Row:
    scenario: str
    metric: str
    ours: float | None
    bare: float | None
    fmt: str  # "rate", "ms", "mb", "x" or "events"
    target: str = ""
    met: bool | None = None
    ratio: bool = True


def _number(value: float | None, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if fmt in ("rate", "events"):
        return f"{value:,.0f}"
    if fmt == "ms":
        return f"{value:.2f}" if value < 10 else f"{value:.1f}"
    if fmt == "mb":
        return f"{value:.0f}"
    return f"{value:.2f}"


_UNITS = {"rate": "req/s", "ms": "ms", "mb": "MB", "x": "x", "events": "events/s"}


def ratio(ours: float | None, bare: float | None) -> float | None:
    if ours is None or bare is None or bare == 0 or math.isnan(ours) or math.isnan(bare):
        return None
    return ours / bare


def table(rows: list[Row]) -> str:
    header = ["scenario", "metric", "threadlog", "bare", "ours/bare", "target", "met"]
    lines = [header]
    for r in rows:
        q = ratio(r.ours, r.bare) if r.ratio else None
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(
            [
                r.scenario,
                f"{r.metric} ({_UNITS[r.fmt]})",
                _number(r.ours, r.fmt),
                _number(r.bare, r.fmt),
                "-" if q is None else f"{q:.2f}",
                r.target,
                met,
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {2, 3, 4}

    def fmt_line(cells: list[str]) -> str:
        padded = [
            c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if i in right else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([fmt_line(lines[0]), rule, *(fmt_line(x) for x in lines[1:])])


def at_least(threshold: float) -> Callable[[float | None], bool | None]:
    return lambda v: None if v is None or math.isnan(v) else v >= threshold


def below(threshold: float) -> Callable[[float | None], bool | None]:
    return lambda v: None if v is None or math.isnan(v) else v < threshold


def rows(bench: "Bench") -> list[Row]:
    a, runs, f = bench.args, bench.runs, bench.facts
    c, d = a.concurrency, f"{a.duration:.0f} s"
    rows: list[Row] = []

    def throughput(key: str, scenario: str, goal: float) -> None:
        ours, bare = runs[key]["threadlog"], runs[key]["bare"]
        met = at_least(goal)(ratio(ours.rate, bare.rate))
        target = f"ours/bare >= {goal}"
        rows.append(Row(scenario, "throughput", ours.rate, bare.rate, "rate", target, met))
        rows.append(Row(scenario, "p50", ours.p50_ms, bare.p50_ms, "ms"))
        rows.append(Row(scenario, "p99", ours.p99_ms, bare.p99_ms, "ms"))

    small_n = f"{f['small_table_messages']:,}"
    large_n = f"{f['large_table_messages']:,}"
    throughput("create", f"create message, c={c}, {d}", 0.6)
    throughput("list_short", f"list 20, {a.small_thread}-msg thread, {small_n} in table", 0.8)
    throughput("list_medium", f"list 20, {a.medium_thread:,}-msg thread", 0.8)
    throughput("list_large", f"list 20, {a.large_thread:,}-msg thread, {large_n} in table", 0.8)

    short, large = runs["list_short"], runs["list_large"]
    ours_growth = ratio(large["threadlog"].p99_ms, short["threadlog"].p99_ms)
    bare_growth = ratio(large["bare"].p99_ms, short["bare"].p99_ms)
    met = None if ours_growth is None else ours_growth <= 1.2
    scenario = "list p99: large thread / 20-msg thread"
    rows.append(
        Row(scenario, "ratio", ours_growth, bare_growth, "x", "ours <= 1.2", met, ratio=False)
    )

    po, pb = bench.paced["threadlog"], bench.paced["bare"]
    chosen = "--rate" if bench.args.rate else "half max"
    scenario = f"paced creates, {f['rate']:,.0f}/s ({chosen})"
    met = below(10)(po.create_p99_ms)
    rows.append(Row(scenario, "create p50", po.create_p50_ms, pb.create_p50_ms, "ms"))
    rows.append(
        Row(scenario, "create p99", po.create_p99_ms, pb.create_p99_ms, "ms", "ours < 10", met)
    )
    ours_sub, bare_sub = po.subscriber_p50_ms, pb.subscriber_p50_ms
    rows.append(Row(scenario, "to subscriber p50", ours_sub, bare_sub, "ms"))
    ours_sub, bare_sub = po.subscriber_p99_ms, pb.subscriber_p99_ms
    met = below(20)(ours_sub)
    rows.append(Row(scenario, "to subscriber p99", ours_sub, bare_sub, "ms", "ours < 20", met))

    rebuilt = f["rebuild"]
    scenario = f"rebuild views, {rebuilt['events']:,} events"
    met = at_least(20_000)(rebuilt["rate"])
    rows.append(
        Row(scenario, "projector", rebuilt["rate"], None, "events", ">= 20,000", met, False)
    )
    peak = max((v for k, v in bench.rss.items() if k.startswith("threadlog") and v), default=0)
    met = below(150)(peak)
    rows.append(
        Row(
            "API process (VmHWM)",
            "peak RSS",
            peak,
            bench.rss.get("bare"),
            "mb",
            "ours < 150",
            met,
        )
    )
    return rows


def _rate(bench: "Bench", key: str, name: str) -> float:
    """Requests a second in a scenario's measured runs. Said beside the CPU per request, it
    tells how busy the machine was: a paced create at half the maximum rate costs about twice
    a create under full load (nothing is shared between one or two requests in flight), so
    that rate can busy the cores as much as the maximum did."""
    if key == "paced":
        paced = bench.paced.get(name)
        return paced.ok / bench.args.duration if paced is not None else 0.0
    run = bench.runs.get(key, {}).get(name)
    return run.rate if run is not None else 0.0


def notes(bench: "Bench") -> str:
    a, f = bench.args, bench.facts
    out = [
        f"load generator: {a.loadgen}; concurrency {a.concurrency}; {a.duration:.0f} s per "
        f"run after {a.warmup:.0f} s warm-up; {a.rounds} round(s), threadlog and bare "
        "alternately",
        f"tables: small {f['small_table_messages']:,} messages (bare "
        f"{f['small_table_bare']:,}); large {f['large_table_messages']:,} (bare "
        f"{f['large_table_bare']:,})",
        f"rebuild: {f['rebuild']['seconds_from_start']:.1f} s from process start to caught "
        f"up; seeding the log in SQL ran at {f['seed_events_per_second']:,.0f} events/s",
        "API peak RSS: "
        + ", ".join(f"{k} {v:.0f} MB" for k, v in bench.rss.items() if v is not None),
    ]
    out.append(
        "CPU ms per request (server process / its Postgres backends / Redis / client), and the "
        f"cores that took at the run's rate (of {os.cpu_count()}):"
    )
    for key, sides in bench.cpu.items():
        cells = []
        for name, d in sides.items():
            parts = "/".join(f"{d.get(k, 0):.2f}" for k in ("server", "postgres", "redis"))
            cores = sum(d.values()) * _rate(bench, key, name) / 1000
            cells.append(f"{name} {parts} / {d.get('client', 0):.2f} = {cores:.2f} cores")
        out.append(f"  {key}: " + "; ".join(cells))
    out.append("list query as the API runs it (generic plan) | planned for these values:")
    for key in ("list_short", "list_medium", "list_large"):
        if key in bench.plans:
            p = bench.plans[key]
            out.append(f"  {key}: {plans.summary(p['api'])} | {plans.summary(p['custom'])}")
    if "read_log" in bench.plans:
        batch = plans.summary(bench.plans["read_log"])
        out.append(f"log reader, first rebuild batch: {batch}")
    for key, sides in bench.runs.items():
        for name, r in sides.items():
            if r.errors:
                out.append(f"ERRORS {key} {name}: {dict(r.errors)}")
    for name, p in bench.paced.items():
        out.append(
            f"paced {name}: create max {p.create_max_ms:.0f} ms, to subscriber max "
            f"{p.subscriber_max_ms:.0f} ms"
        )
        if p.flushes is not None:
            d = p.flushes
            out.append(
                f"  the disk meanwhile (8 kB write + fdatasync every {INTERVAL * 1000:.0f} ms in "
                f"Postgres's data directory, {d.count:,} flushes): p50 {d.p50_ms:.2f} ms, "
                f"p99 {d.p99_ms:.2f} ms, max {d.max_ms:.0f} ms, {d.stalls} over {STALL_MS:.0f} ms"
            )
        detail = f"paced {name}: sent {p.sent}, ok {p.ok}, seen {p.seen}, skipped {p.skipped}"
        if p.errors or p.lost > 0 or p.skipped:
            out.append(f"ERRORS {detail}, errors {dict(p.errors)}")
    return "\n".join(out)


def as_json(bench: "Bench") -> dict:
    return {
        "args": vars(bench.args),
        "runs": {
            k: {n: {**asdict(r), "rate": r.rate} for n, r in v.items()}
            for k, v in bench.runs.items()
        },
        "paced": {n: {**asdict(p), "lost": p.lost} for n, p in bench.paced.items()},
        "facts": bench.facts,
        "rss_mb": bench.rss,
        "cpu_ms_per_request": bench.cpu,
        "plans": bench.plans,
    }
