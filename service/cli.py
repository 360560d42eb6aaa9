"""The `threadlog` command: serve, worker, migrate, dev, keys, tail, rebuild, verify."""

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from aiohttp import web

from eventlog.database import connect

from . import heap, logs
from .app import apply_migrations, create_app, running_workers
from .auth import digest, new_key
from .config import ConfigError, Settings
from .store import api_keys
from .tail import tail

log = logging.getLogger("threadlog")


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # not on Windows; asyncio's own loop works, only slower
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    workers: bool,
    banner=None,
    reuse_port: bool = False,
) -> None:
    app = create_app(settings, workers=workers)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
    await site.start()
    heap.settle()
    bound = runner.addresses[0][1] if runner.addresses else port
    url = f"http://{host}:{bound}"
    log.info("listening on %s", url)
    if banner:
        banner(url)
    try:
        await _until_signalled()
    finally:
        # Lets in-flight requests finish, then closes workers and pools (cleanup_ctx).
        await runner.cleanup()


async def _worker(settings: Settings) -> None:
    await apply_migrations(settings.database_url)
    async with running_workers(settings):
        heap.settle()
        await _until_signalled()


def _serve_processes(args: argparse.Namespace) -> int:
    """`serve --processes N`: N API processes sharing one port (SO_REUSEPORT), so requests
    spread over the cores; the projector and relay run in the first only. Signals are passed
    on; the exit status is the worst of theirs."""
    children = []
    for n in range(args.processes):
        argv = [sys.executable, "-m", "service", "serve", "--host", args.host]
        argv += ["--port", str(args.port), "--reuse-port"]
        if n > 0 or args.no_workers:
            argv.append("--no-workers")
        children.append(subprocess.Popen(argv))

    def forward(sig: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, forward)
    return max(child.wait() for child in children)


def _settings(**overrides: object) -> Settings:
    try:
        return Settings.from_env(**overrides)
    except ConfigError as exc:
        sys.exit(f"threadlog: {exc}")


def _dev_key(data_dir: Path) -> str:
    """A development key kept in the data folder, so scripts keep working across restarts."""
    path = data_dir / "dev-key"
    if path.exists():
        return path.read_text().strip()
    key = "sk-dev-" + secrets.token_urlsafe(24)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def _dev(args: argparse.Namespace) -> None:
    from .devservers import DevServers

    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    servers = DevServers(data_dir)
    # Signals during start-up must still stop the servers: turn them into a clean exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        urls = servers.start()
        key = _dev_key(data_dir)
        keys = os.environ.get("THREADLOG_API_KEYS") or f"{key}:default"
        os.environ["THREADLOG_API_KEYS"] = keys
        settings = _settings(database_url=urls.database_url, redis_url=urls.redis_url)

        def banner(url: str) -> None:
            print(
                f"threadlog is running at {url}/v1\n"
                f"  API key:  {key} (project 'default')\n"
                f"  Postgres: {urls.database_url}\n"
                f"  Redis:    {urls.redis_url}\n"
                "Press Ctrl-C to stop.",
                flush=True,
            )

        asyncio.run(_serve(settings, args.host, args.port, workers=True, banner=banner))
    except KeyboardInterrupt:
        pass
    finally:
        servers.stop()


async def _keys(args: argparse.Namespace, settings: Settings) -> None:
    await apply_migrations(settings.database_url)
    conn = await connect(settings.database_url)
    try:
        if args.keys_command == "create":
            key_id, key = new_key()
            await api_keys.insert(conn, key_id, args.project, digest(key), key[:10])
            print(f"{key_id}  project={args.project}\n{key}\n(the key is shown only now)")
        elif args.keys_command == "list":
            for row in await api_keys.list_all(conn):
                state = (
                    f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "active"
                )
                print(
                    f"{row['id']}  project={row['project']}  {row['key_prefix']}...  "
                    f"created {row['created_at']:%Y-%m-%d %H:%M}  {state}"
                )
        elif args.keys_command == "revoke":
            if not await api_keys.revoke(conn, args.key_id):
                sys.exit(f"threadlog: no active key with id {args.key_id}")
            print(f"revoked {args.key_id}")
    finally:
        await conn.close()


async def _replay_command(command: str, settings: Settings) -> int:
    """`rebuild` or `verify`, with a progress bar over the log; returns the exit status."""
    from tqdm import tqdm

    from projections.rebuild import count_events, rebuild, verify

    await apply_migrations(settings.database_url)
    conn = await connect(settings.database_url)
    try:
        total = await count_events(conn)
        with tqdm(total=total, unit="ev", unit_scale=True, desc=command, file=sys.stderr) as bar:
            started = time.perf_counter()
            if command == "rebuild":
                replayed = await rebuild(conn, bar.update)
                seconds = time.perf_counter() - started
                print(
                    f"rebuilt the views from {replayed} events in {seconds:.1f}s "
                    f"({replayed / max(seconds, 1e-9):,.0f} events/s) and swapped them in"
                )
                return 0
            differences = await verify(conn, bar.update)
    finally:
        await conn.close()
    for d in differences:
        print(
            f"{d.view}: {d.only_live} rows only in the live view, "
            f"{d.only_replayed} only in the replay of the log"
        )
    if differences:
        return 1
    print("the views match a replay of the log")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="threadlog", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API (with projector and relay)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--no-workers", action="store_true", help="do not run the projector and relay here"
    )
    serve.add_argument(
        "--processes",
        type=int,
        default=1,
        help="API processes sharing the port (SO_REUSEPORT; needs a fixed --port)",
    )
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    sub.add_parser("worker", help="run the projector and relay only")
    sub.add_parser("migrate", help="apply pending database migrations and exit")
    dev = sub.add_parser("dev", help="embedded Postgres and Redis, then the API: no set-up")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--data-dir", default=".threadlog", help="where the dev servers keep data")
    keys = sub.add_parser("keys", help="manage API keys stored in the database")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("create", help="create a key for a project").add_argument(
        "--project", required=True
    )
    keys_sub.add_parser("list", help="list keys (never the keys themselves)")
    keys_sub.add_parser("revoke", help="revoke a key by its id").add_argument("key_id")
    sub.add_parser("rebuild", help="replay the log into fresh views and swap them in, live")
    sub.add_parser("verify", help="replay the log and compare with the views (exit 1 if differ)")
    tail_parser = sub.add_parser("tail", help="print events from the Redis streams as they come")
    tail_parser.add_argument("--thread", help="one thread's stream instead of the global one")
    tail_parser.add_argument("--group", help="read as a member of this consumer group")
    tail_parser.add_argument("--consumer", help="this member's name in --group")
    tail_parser.add_argument(
        "--from", dest="start", default="$", help="entry id to start after (0: oldest; $: now)"
    )
    tail_parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(argv)

    interactive = ("dev", "tail", "keys", "migrate", "rebuild", "verify")
    default_format = "text" if args.command in interactive else "json"
    logs.configure(
        os.environ.get("THREADLOG_LOG_LEVEL", "INFO"),
        os.environ.get("THREADLOG_LOG_FORMAT", default_format),
    )
    _use_uvloop()
    if args.command == "serve":
        settings = _settings()
        if not settings.api_keys:
            log.warning("THREADLOG_API_KEYS is empty: only keys made with `threadlog keys` work")
        if args.processes > 1:
            if args.port == 0:
                sys.exit("threadlog: --processes needs a fixed --port to share")
            sys.exit(_serve_processes(args))
        asyncio.run(
            _serve(
                settings,
                args.host,
                args.port,
                workers=not args.no_workers,
                reuse_port=args.reuse_port,
            )
        )
    elif args.command == "worker":
        asyncio.run(_worker(_settings()))
    elif args.command == "migrate":
        applied = asyncio.run(apply_migrations(_settings().database_url))
        print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    elif args.command == "dev":
        _dev(args)
    elif args.command == "tail":
        settings = _settings()
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                tail(
                    settings.redis_url,
                    settings.redis_prefix,
                    thread_id=args.thread,
                    group=args.group,
                    consumer=args.consumer,
                    start=args.start,
                    as_json=args.json,
                    partitions=settings.stream_partitions,
                    cluster=settings.redis_cluster,
                )
            )
    elif args.command in ("rebuild", "verify"):
        sys.exit(asyncio.run(_replay_command(args.command, _settings())))
    elif args.command == "keys":
        asyncio.run(_keys(args, _settings()))
