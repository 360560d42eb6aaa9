"""The `threadlog` command: serve, worker, migrate, dev, keys, tail, rebuild, verify.

Servers: DATABASE_URL (Postgres) and REDIS_URL (Redis or Valkey). Without them, a command uses
the servers of the `threadlog dev` running in this folder (.threadlog, or --data-dir), and
says so; with neither, it says what to set, and connects to nothing it was not told of.
"""

import argparse
import asyncio
import contextlib
import errno
import importlib.metadata
import logging
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
from aiohttp import web

from eventlog.database import connect
from eventlog.migrate import NewerSchema, migrate
from eventlog.redis_client import REDIS_ERRORS

from . import dev_record, heap, logs
from .app import create_app, running_workers
from .auth import digest, new_key
from .config import ConfigError, Settings, masked
from .devservers import DataDirInUse, DevUrls
from .store import api_keys
from .tail import tail

log = logging.getLogger("threadlog")


class CommandError(Exception):
    """An ordinary failure (a port in use, a server out of reach, a bad setting): one line
    naming the cause and the fix, without a traceback (--debug or THREADLOG_DEBUG shows it)."""


# The variable that names each server, and what the command needs it for.
SERVER_VARIABLES = {"database_url": "DATABASE_URL", "redis_url": "REDIS_URL"}
EXAMPLE_URLS = {
    "database_url": "postgresql://user:password@host:5432/threadlog",
    "redis_url": "redis://host:6379/0",
}
# What each command connects to.
NEEDS = {
    "serve": ("database_url", "redis_url"),
    "worker": ("database_url", "redis_url"),
    "migrate": ("database_url",),
    "keys": ("database_url",),
    "rebuild": ("database_url",),
    "verify": ("database_url",),
    "tail": ("redis_url",),
}


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


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


# What connecting can fail with: the server out of reach (OSError, a time-out), or refusing
# the session (a wrong password, no such database, too many clients).
CONNECT_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


async def _connected(database_url: str) -> asyncpg.Connection:
    try:
        return await connect(database_url)
    except (OSError, TimeoutError) as exc:
        raise CommandError(
            f"cannot reach Postgres at {masked(database_url)} ({_reason(exc)}): is it running? "
            "DATABASE_URL names it"
        ) from exc
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise CommandError(
            f"Postgres at {masked(database_url)} refused the connection: {_reason(exc)}"
        ) from exc


async def _migrated(database_url: str) -> list[str]:
    """Applies pending migrations; a database out of reach or refusing us, or migrated by a
    newer release, is a CommandError."""
    conn = await _connected(database_url)
    try:
        return await migrate(conn)
    except NewerSchema as exc:
        raise CommandError(
            f"the database at {masked(database_url)} was migrated by a newer threadlog "
            f"(migrations {exc} are not in this release): run that release, or point "
            "DATABASE_URL at another database"
        ) from exc
    except asyncpg.PostgresError as exc:
        raise CommandError(
            f"migrating the database at {masked(database_url)} failed: {_reason(exc)}"
        ) from exc
    finally:
        await conn.close()


async def _serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    workers: bool,
    banner=None,
    reuse_port: bool = False,
) -> None:
    await _migrated(settings.database_url)
    app = create_app(settings, workers=workers, migrate_at_start=False)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    try:
        await runner.setup()
    except BaseException as exc:
        # What had started (a pool, the workers) closes; a failure of an ordinary kind is
        # one line.
        await runner.cleanup()
        if isinstance(exc, CONNECT_ERRORS):
            raise CommandError(f"could not start: {_reason(exc)}") from exc
        raise
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(
                f"{host}:{port} is already in use: pass --port N (0 picks a free one), or stop "
                "what listens there"
            ) from exc
        raise CommandError(f"cannot listen on {host}:{port} ({_reason(exc)})") from exc
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
    await _migrated(settings.database_url)
    async with running_workers(settings):
        heap.settle()
        await _until_signalled()


def _serve_processes(args: argparse.Namespace, settings: Settings) -> int:
    """`serve --processes N`: N API processes sharing one port (SO_REUSEPORT), so requests
    spread over the cores; the projector and relay run in the first only. Signals are passed
    on; the exit status is the worst of theirs. The children get the servers this process
    found (a dev's, when the environment names none)."""
    env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}
    children = []
    for n in range(args.processes):
        argv = [sys.executable, "-m", "service", "serve", "--host", args.host]
        argv += ["--port", str(args.port), "--reuse-port"]
        if n > 0 or args.no_workers:
            argv.append("--no-workers")
        children.append(subprocess.Popen(argv, env=env))

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
        raise CommandError(str(exc)) from None


def _servers(command: str, data_dir: Path) -> dict[str, str]:
    """The URLs of the servers `command` needs that the environment does not name: those of
    the `threadlog dev` running on `data_dir`, announced on stderr. Without one, a
    CommandError says what to set: never a server the user did not name."""
    missing = [n for n in NEEDS.get(command, ()) if not os.environ.get(SERVER_VARIABLES[n])]
    if not missing:
        return {}
    record = dev_record.running(data_dir)
    if record is None:
        wanted = " and ".join(f"{SERVER_VARIABLES[n]}={EXAMPLE_URLS[n]}" for n in missing)
        names = " or ".join(SERVER_VARIABLES[n] for n in missing)
        raise CommandError(
            f"nothing to connect to: no {names} is set, and no threadlog dev is running in "
            f"{data_dir}. Start `threadlog dev` in another terminal (or pass --data-dir of a "
            f"running one), or set {wanted}"
        )
    print(
        f"threadlog: using the servers of the threadlog dev running in {data_dir} "
        f"(pid {record.pid})",
        file=sys.stderr,
        flush=True,
    )
    return {name: getattr(record, name) for name in missing}


def _dev_key(data_dir: Path) -> str:
    """A development key kept in the data folder, so scripts keep working across restarts."""
    path = data_dir / "dev-key"
    if path.exists():
        return path.read_text().strip()
    key = "sk-dev-" + secrets.token_urlsafe(24)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def _print_env(record: dev_record.DevRecord) -> None:
    """The exports that point a shell (and the openai SDK, which reads OPENAI_BASE_URL and
    OPENAI_API_KEY) at a running dev."""
    exports = {
        "DATABASE_URL": record.database_url,
        "REDIS_URL": record.redis_url,
        "OPENAI_BASE_URL": f"{record.api_url}/v1",
        "OPENAI_API_KEY": record.api_key,
    }
    print("\n".join(f"export {name}={shlex.quote(value)}" for name, value in exports.items()))


def _dev(args: argparse.Namespace) -> None:
    from .devservers import DevServers

    data_dir = Path(args.data_dir).resolve()
    if args.print_env:
        record = dev_record.running(data_dir)
        if record is None:
            raise CommandError(
                f"no threadlog dev is running in {args.data_dir}: start one with `threadlog dev`"
            )
        _print_env(record)
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    servers = DevServers(data_dir)
    # Signals during start-up must still stop the servers: turn them into a clean exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        try:
            urls = servers.start()
        except DataDirInUse as exc:
            raise CommandError(
                f"{args.data_dir} is in use by another threadlog dev (or a test run): stop it, "
                "or pass --data-dir DIR for a dev of its own"
            ) from exc
        # The folder is ours now: a record left there by a dev killed earlier is stale.
        dev_record.clear(data_dir)
        try:
            _run_dev(args, data_dir, urls)
        finally:
            dev_record.clear(data_dir)
    except KeyboardInterrupt:
        pass
    finally:
        servers.stop()
    print(f"threadlog dev: stopped; the data stays in {args.data_dir}", flush=True)


def _run_dev(args: argparse.Namespace, data_dir: Path, urls: DevUrls) -> None:
    """The API on the dev servers, announced once it listens (and recorded for the other
    commands)."""
    key = _dev_key(data_dir)
    keys = os.environ.get("THREADLOG_API_KEYS") or f"{key}:default"
    os.environ["THREADLOG_API_KEYS"] = keys
    settings = _settings(database_url=urls.database_url, redis_url=urls.redis_url)

    def banner(url: str) -> None:
        dev_record.write(
            data_dir,
            dev_record.DevRecord(urls.database_url, urls.redis_url, url, key, os.getpid()),
        )
        print(
            f"threadlog is running at {url}/v1\n"
            f"  API key:  {key} (project 'default')\n"
            f"  Postgres: {urls.database_url} (data kept in {args.data_dir})\n"
            f"  Redis:    {urls.redis_url} (keeps nothing across restarts; the events\n"
            "            stay in Postgres, for the API and Server-Sent Events resumes)\n"
            "Other threadlog commands run in this folder use these servers\n"
            "(`threadlog tail`, `keys`, `verify`...); `threadlog dev --print-env` prints\n"
            "the exports for other shells. Press Ctrl-C to stop.",
            flush=True,
        )

    asyncio.run(_serve(settings, args.host, args.port, workers=True, banner=banner))


async def _keys(args: argparse.Namespace, settings: Settings) -> None:
    await _migrated(settings.database_url)
    conn = await _connected(settings.database_url)
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

    await _migrated(settings.database_url)
    conn = await _connected(settings.database_url)
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


def _version() -> str:
    try:
        return importlib.metadata.version("threadlog")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout not installed
        return "(not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="threadlog",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"threadlog {importlib.metadata.version('threadlog')}",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks (also THREADLOG_DEBUG=1)"
    )
    # Every command but dev finds a running dev's servers through this.
    servers = argparse.ArgumentParser(add_help=False)
    servers.add_argument(
        "--data-dir",
        default=dev_record.DEFAULT_DATA_DIR,
        help="the threadlog dev whose servers to use when DATABASE_URL / REDIS_URL are unset "
        "(default: .threadlog)",
    )
    listen = argparse.ArgumentParser(add_help=False)
    listen.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    listen.add_argument(
        "--port", type=int, default=8000, help="port to listen on (8000; 0 picks a free one)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        parents=[servers, listen],
        help="run the HTTP API (with projector and relay) on DATABASE_URL and REDIS_URL",
    )
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
    sub.add_parser("worker", parents=[servers], help="run the projector and relay only")
    sub.add_parser("migrate", parents=[servers], help="apply pending database migrations and exit")
    dev = sub.add_parser(
        "dev",
        parents=[listen],
        help="embedded Postgres and Redis, then the API: no set-up",
    )
    dev.add_argument(
        "--data-dir",
        default=dev_record.DEFAULT_DATA_DIR,
        help="where the dev servers keep data (default: .threadlog)",
    )
    dev.add_argument(
        "--print-env",
        action="store_true",
        help="print the exports for the dev running on --data-dir, and exit",
    )
    keys = sub.add_parser("keys", help="manage API keys stored in the database")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser(
        "create", parents=[servers], help="create a key for a project"
    ).add_argument("--project", required=True)
    keys_sub.add_parser("list", parents=[servers], help="list keys (never the keys themselves)")
    keys_sub.add_parser("revoke", parents=[servers], help="revoke a key by its id").add_argument(
        "key_id"
    )
    sub.add_parser(
        "rebuild",
        parents=[servers],
        help="replay the log into fresh views and swap them in, live",
    )
    sub.add_parser(
        "verify",
        parents=[servers],
        help="replay the log and compare with the views (exit 1 if they differ)",
    )
    tail_parser = sub.add_parser(
        "tail", parents=[servers], help="print events from the Redis streams as they come"
    )
    tail_parser.add_argument("--thread", help="one thread's stream instead of the global one")
    tail_parser.add_argument("--group", help="read as a member of this consumer group")
    tail_parser.add_argument("--consumer", help="this member's name in --group")
    tail_parser.add_argument(
        "--from", dest="start", default="$", help="entry id to start after (0: oldest; $: now)"
    )
    tail_parser.add_argument("--json", action="store_true", help="one JSON object per line")
    return parser


def _debugging(args: argparse.Namespace) -> bool:
    flag = os.environ.get("THREADLOG_DEBUG", "").strip().lower()
    return args.debug or flag in ("1", "true", "yes", "on")


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    interactive = ("dev", "tail", "keys", "migrate", "rebuild", "verify")
    default_format = "text" if args.command in interactive else "json"
    logs.configure(
        os.environ.get("THREADLOG_LOG_LEVEL", "INFO"),
        os.environ.get("THREADLOG_LOG_FORMAT", default_format),
    )
    _use_uvloop()
    try:
        status = _run(args)
    except CommandError as exc:
        if _debugging(args):
            raise
        sys.exit(f"threadlog: {exc}")
    sys.exit(status or 0)


async def _tail(args: argparse.Namespace, settings: Settings) -> None:
    try:
        await tail(
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
    except REDIS_ERRORS as exc:
        raise CommandError(
            f"cannot reach Redis at {masked(settings.redis_url)} ({_reason(exc)}): is it "
            "running? REDIS_URL names it"
        ) from exc


def _run(args: argparse.Namespace) -> int | None:
    if args.command == "dev":
        _dev(args)
        return None
    # Every setting is checked first, so a bad one is reported whatever else is missing.
    settings = _settings()
    found = _servers(args.command, Path(args.data_dir))
    if found:
        settings = _settings(**found)
    if args.command == "serve":
        if not settings.api_keys:
            log.warning("THREADLOG_API_KEYS is empty: only keys made with `threadlog keys` work")
        if args.processes > 1:
            if args.port == 0:
                raise CommandError("--processes needs a fixed --port to share")
            return _serve_processes(args, settings)
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
        asyncio.run(_worker(settings))
    elif args.command == "migrate":
        applied = asyncio.run(_migrated(settings.database_url))
        print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    elif args.command == "tail":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_tail(args, settings))
    elif args.command in ("rebuild", "verify"):
        return asyncio.run(_replay_command(args.command, settings))
    elif args.command == "keys":
        asyncio.run(_keys(args, settings))
    return None
