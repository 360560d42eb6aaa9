"""`python -m bench`: threadlog against a bare endpoint, side by side, one table at the end.

The command line, and the signals: Ctrl-C or SIGTERM stop the run once and clean-up (servers,
database, Redis keys) runs to its end. What runs, and why in that order: bench/run.py.
"""

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from . import load
from .report import as_json, notes, rows, table
from .run import Bench, say


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark threadlog against a bare aiohttp+asyncpg+redis endpoint.",
    )
    p.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a Postgres server where the bench may create (and drop) its own database",
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument("--quick", action="store_true", help="smaller sizes, shorter runs (~2 min)")
    p.add_argument("--duration", type=float, help="seconds per measured run (10; quick: 5)")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each run")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument(
        "--rounds", type=int, help="alternations per scenario, medians kept (3; quick: 1)"
    )
    p.add_argument("--create-threads", type=int, default=64, help="threads creates rotate over")
    p.add_argument("--small-table", type=int, default=10_000)
    p.add_argument("--small-thread", type=int, default=20)
    p.add_argument("--medium-thread", type=int, default=10_000)
    p.add_argument("--large-table", type=int, help="messages in the table (1M; quick: 100k)")
    p.add_argument("--large-thread", type=int, help="messages in the thread (100k; quick: 10k)")
    p.add_argument("--filler-thread", type=int, default=100, help="messages per filler thread")
    p.add_argument("--rate", type=float, help="paced create rate (default: half of max)")
    p.add_argument("--loadgen", choices=["auto", "wrk", "builtin"], default="auto")
    p.add_argument(
        "--processes", type=int, default=1, help="threadlog API processes (serve --processes)"
    )
    p.add_argument("--profile", metavar="DIR", help="after measuring, profile the API (py-spy)")
    p.add_argument("--json", metavar="PATH", help="also write every figure as JSON here")
    args = p.parse_args(argv)
    args.duration = args.duration or (5.0 if args.quick else 10.0)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.large_table = args.large_table or (100_000 if args.quick else 1_000_000)
    args.large_thread = args.large_thread or (10_000 if args.quick else 100_000)
    if args.loadgen == "auto":
        args.loadgen = "wrk" if load.wrk_available() else "builtin"
    if args.loadgen == "wrk" and not load.wrk_available():
        p.error("--loadgen wrk: wrk is not installed")
    return args


async def _main(args: argparse.Namespace) -> Bench:
    # Ctrl-C and SIGTERM cancel the run once; clean-up then runs to its end, whatever follows.
    task = asyncio.current_task()
    stopping: list[int] = []

    def stop(signum: int) -> None:
        if not stopping:
            say("stopping: cleaning up (servers, database, Redis keys)")
            task.cancel()
        stopping.append(signum)

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    bench = Bench(args)
    failed = True
    try:
        await bench.run()
        failed = False
    finally:
        await asyncio.shield(bench.cleanup(failed))
    return bench


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    try:
        import uvloop
    except ImportError:
        pass
    else:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        bench = asyncio.run(_main(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("interrupted: the servers were stopped and the database and keys removed")
        sys.exit(130)
    print(table(rows(bench)))
    print()
    print(notes(bench))
    if args.json:
        Path(args.json).write_text(json.dumps(as_json(bench), indent=2, default=str) + "\n")


main()
