"""The servers under test as subprocesses: start, wait until they answer, measure, stop.

Each runs in its own session (process group), so a Ctrl-C in the terminal reaches only the
harness, which then stops them in order with SIGTERM (SIGKILL after a grace period). Their
output goes to a log file, whose tail is shown when one fails to start.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM: the most resident memory the process has had since it started, in MB."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log_path: Path
    proc: subprocess.Popen | None = None
    log_file: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self.log_file = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            self.argv,
            cwd=REPO,
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def wait_ready(self, within: float = 90.0) -> None:
        """Until GET /healthz answers 200; fails early if the process exits."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.proc is None or self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
                try:
                    async with session.get(self.url + "/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {within:.0f} s:\n{self.log_tail()}")

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.pid) if self.proc and self.proc.poll() is None else None

    def stop(self, grace: float = 20.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                print(f"bench: {self.name} ignored SIGTERM for {grace:.0f} s; killing it")
                self.proc.kill()
                self.proc.wait(5)
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def threadlog_server(
    port: int,
    log_dir: Path,
    *,
    database_url: str,
    redis_url: str,
    prefix: str,
    api_key: str,
    processes: int = 1,
) -> Server:
    """`python -m service serve` with its in-process projector and relay."""
    return Server(
        "threadlog",
        [
            *(sys.executable, "-m", "service", "serve", "--host", "127.0.0.1"),
            *("--port", str(port), "--processes", str(processes)),
        ],
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "THREADLOG_API_KEYS": f"{api_key}:bench",
            "THREADLOG_REDIS_PREFIX": prefix,
            "THREADLOG_LOG_LEVEL": "WARNING",
        },
        port,
        log_dir / "threadlog.log",
    )


def bare_server(port: int, log_dir: Path, *, database_url: str, redis_url: str, stream: str):
    return Server(
        "bare",
        [
            sys.executable,
            "-m",
            "bench.bare",
            "--port",
            str(port),
            "--database-url",
            database_url,
            "--redis-url",
            redis_url,
            "--stream",
            stream,
        ],
        {},
        port,
        log_dir / "bare.log",
    )
