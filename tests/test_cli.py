"""The `threadlog` command as a user meets it: it finds a running `threadlog dev`'s servers,
never a server nobody named, and every ordinary failure is one line with the cause and the
fix, exit status 1, and no traceback unless asked for (--debug, THREADLOG_DEBUG)."""

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from eventlog.database import connect

from .helpers import threadlog

SERVERS = ("DATABASE_URL", "REDIS_URL", "THREADLOG_DEBUG")


def _one_line(out: str) -> str:
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert "Traceback" not in out
    return lines[0]


async def test_without_servers_named_or_a_dev_running_a_command_says_what_to_set(tmp_path):
    for command, variable in (("tail", "REDIS_URL"), ("migrate", "DATABASE_URL")):
        code, out = await threadlog({}, command, stderr_too=True, cwd=tmp_path, unset=SERVERS)
        assert code == 1
        line = _one_line(out)
        assert line.startswith("threadlog: nothing to connect to: ")
        assert variable in line and "threadlog dev" in line
    code, out = await threadlog({}, "serve", stderr_too=True, cwd=tmp_path, unset=SERVERS)
    assert code == 1 and "DATABASE_URL or REDIS_URL" in _one_line(out)


async def test_a_server_out_of_reach_is_named_with_its_password_masked(tmp_path):
    unreachable = {"DATABASE_URL": "postgresql://app:s3cret@127.0.0.1:1/threadlog"}
    code, out = await threadlog(unreachable, "migrate", stderr_too=True, unset=SERVERS)
    assert code == 1
    line = _one_line(out)
    assert "cannot reach Postgres at postgresql://app:***@127.0.0.1:1/threadlog" in line
    assert "s3cret" not in out
    code, out = await threadlog(
        {"REDIS_URL": "redis://:pw@127.0.0.1:1/0"}, "tail", stderr_too=True, unset=SERVERS
    )
    assert code == 1
    assert "cannot reach Redis at redis://:***@127.0.0.1:1/0" in _one_line(out)
    # Asked for, the traceback comes too.
    for debug in (("--debug", "migrate"), ("migrate",)):
        code, out = await threadlog(
            {**unreachable, "THREADLOG_DEBUG": "1" if len(debug) == 1 else ""},
            *debug,
            stderr_too=True,
            unset=SERVERS,
        )
        assert code == 1 and "Traceback" in out


async def test_a_server_that_refuses_the_session_says_why(settings):
    missing = settings.database_url.rsplit("/", 1)[0] + "/threadlog_no_such_database"
    code, out = await threadlog({"DATABASE_URL": missing}, "migrate", stderr_too=True)
    assert code == 1
    line = _one_line(out)
    assert "refused the connection" in line and "threadlog_no_such_database" in line


async def test_a_port_in_use_says_so_and_how_to_choose_another(settings):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}
        code, out = await threadlog(
            env, "serve", "--port", str(port), "--no-workers", stderr_too=True
        )
    assert code == 1
    assert f"127.0.0.1:{port} is already in use: pass --port N" in out.strip().splitlines()[-1]
    assert "Traceback" not in out


async def test_a_database_migrated_by_a_newer_release_is_refused(make_database):
    dsn = await make_database()
    code, _ = await threadlog({"DATABASE_URL": dsn}, "migrate", unset=SERVERS)
    assert code == 0
    conn = await connect(dsn)
    try:
        await conn.execute("insert into schema_migrations (name) values ('9999_from_the_future')")
    finally:
        await conn.close()
    code, out = await threadlog({"DATABASE_URL": dsn}, "migrate", stderr_too=True, unset=SERVERS)
    assert code == 1
    line = _one_line(out)
    assert "was migrated by a newer threadlog (migrations 9999_from_the_future" in line


async def test_version_and_help_name_what_a_user_needs():
    code, out = await threadlog({}, "--version", stderr_too=True)
    assert code == 0 and out.startswith("threadlog ")
    code, out = await threadlog({}, "--help", stderr_too=True)
    assert code == 0 and "DATABASE_URL" in out and "REDIS_URL" in out
    code, out = await threadlog({}, "serve", "--help", stderr_too=True)
    assert "address to listen on" in out and "port to listen on" in out


async def _banner(process: asyncio.subprocess.Process) -> list[str]:
    lines = []
    while not any("Press Ctrl-C" in line for line in lines):
        raw = await asyncio.wait_for(process.stdout.readline(), 60)
        assert raw, "threadlog dev ended before its banner: " + "".join(lines)
        lines.append(raw.decode())
    return lines


async def test_the_other_commands_find_a_running_dev_and_only_while_it_runs(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in SERVERS}
    env.pop("THREADLOG_API_KEYS", None)
    dev = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "service", "dev", "--port", "0"),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        banner = "".join(await _banner(dev))
        code, exports = await threadlog({}, "dev", "--print-env", cwd=tmp_path, unset=SERVERS)
        assert code == 0
        found = dict(
            line.removeprefix("export ").split("=", 1) for line in exports.strip().splitlines()
        )
        assert set(found) == {"DATABASE_URL", "REDIS_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY"}
        assert found["DATABASE_URL"] in banner and found["OPENAI_API_KEY"] in banner
        # A command run in the same folder uses the dev's servers, and says so.
        code, out = await threadlog(
            {}, "keys", "create", "--project", "p", stderr_too=True, cwd=tmp_path, unset=SERVERS
        )
        assert code == 0, out
        assert (
            f"using the servers of the threadlog dev running in .threadlog (pid {dev.pid})" in out
        )
        # A second dev on the same folder is refused in one line.
        code, out = await threadlog({}, "dev", "--port", "0", stderr_too=True, cwd=tmp_path)
        assert code == 1
        assert "is in use by another threadlog dev" in out.strip().splitlines()[-1]
        assert "Traceback" not in out
        # ...and leaves the running dev's record as it was.
        code, again = await threadlog({}, "dev", "--print-env", cwd=tmp_path, unset=SERVERS)
        assert (code, again) == (0, exports)
    finally:
        dev.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(dev.communicate(), 60)
    assert dev.returncode == 0
    assert "threadlog dev: stopped; the data stays in .threadlog" in rest.decode()
    assert not (tmp_path / ".threadlog" / "dev.json").exists()
    # Stopped, it is found no more.
    code, out = await threadlog({}, "tail", stderr_too=True, cwd=tmp_path, unset=SERVERS)
    assert code == 1 and "nothing to connect to" in out
