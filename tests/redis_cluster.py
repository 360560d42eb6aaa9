"""A real Redis Cluster on loopback for the tests: three primaries, each its own valkey-server
(the binary the embedded servers use), the 16384 slots split in thirds.

Built by hand (CLUSTER ADDSLOTSRANGE, CLUSTER MEET) rather than with `redis-cli --cluster
create`, which the Python packages do not ship. Each node's cluster bus gets its own free port
(`cluster-port`), since port + 10000 may be taken or out of range. The nodes are told to die
with the process that started them (Linux), so a test run killed outright leaves none behind.
"""

import ctypes
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from service.devservers import free_ports, valkey_binary

SLOTS = 16384
START_SECONDS = 30
ATTEMPTS = 3


class NodeExited(RuntimeError):
    pass


class LocalCluster:
    def __init__(self, workdir: Path, nodes: int = 3) -> None:
        self.workdir = workdir
        self.nodes = nodes
        self.ports: list[int] = []
        self._buses: list[int] = []
        self._processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> str:
        """Free ports are picked before the nodes bind them, so another process may take one in
        between: a node that cannot bind, or a port answered by someone else, is a fresh try."""
        for attempt in range(ATTEMPTS):
            try:
                return self._start_once()
            except (NodeExited, redis.RedisError):
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _start_once(self) -> str:
        ports = free_ports(2 * self.nodes)
        self.ports, self._buses = ports[: self.nodes], ports[self.nodes :]
        for config in self.workdir.glob("nodes*.conf"):
            config.unlink()
        try:
            clients = self._spawn_all()
            step = SLOTS // self.nodes
            for i, client in enumerate(clients):
                last = SLOTS - 1 if i == self.nodes - 1 else (i + 1) * step - 1
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", i * step, last)
            for client in clients[1:]:
                client.execute_command(
                    "CLUSTER", "MEET", "127.0.0.1", self.ports[0], self._buses[0]
                )
            self._wait_until_formed(clients)
        except BaseException:
            self.stop()
            raise
        return self.url

    def restart(self) -> None:
        """Every node stopped and started again on its ports: the cluster comes back from the
        nodes' config files, its data gone (nothing is kept on disk)."""
        self.stop()
        try:
            self._wait_until_formed(self._spawn_all())
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes = []

    def _spawn_all(self) -> list[redis.Redis]:
        for i, (port, bus) in enumerate(zip(self.ports, self._buses, strict=True)):
            self._processes.append(self._spawn(i, port, bus))
        nodes = zip(self.ports, self._processes, strict=True)
        return [self._connect(port, process) for port, process in nodes]

    def _spawn(self, i: int, port: int, bus: int) -> subprocess.Popen[bytes]:
        # The log only: a node's stderr left to a pipe nobody reads could block it.
        log = (self.workdir / f"node{i}.log").open("ab")
        with log:
            return subprocess.Popen(
                [
                    str(valkey_binary()),
                    *("--port", str(port), "--bind", "127.0.0.1"),
                    *("--cluster-enabled", "yes", "--cluster-port", str(bus)),
                    *("--cluster-config-file", str(self.workdir / f"nodes{i}.conf")),
                    *("--dir", str(self.workdir), "--save", "", "--appendonly", "no"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )

    def _connect(self, port: int, process: subprocess.Popen[bytes]) -> redis.Redis:
        client = redis.Redis(port=port, socket_timeout=5)
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                raise NodeExited(f"the node for port {port} exited; logs in {self.workdir}")
            try:
                client.ping()
                return client
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _wait_until_formed(self, clients: list[redis.Redis]) -> None:
        """Every node sees every other and all slots covered."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            infos = [c.execute_command("CLUSTER", "INFO") for c in clients]
            known = [len(c.execute_command("CLUSTER", "NODES").splitlines()) for c in clients]
            if all(b"cluster_state:ok" in i for i in infos) and known == [self.nodes] * self.nodes:
                return
            time.sleep(0.05)
        raise RuntimeError(f"cluster did not form in {START_SECONDS}s; logs in {self.workdir}")


def _die_with_parent() -> None:
    if sys.platform == "linux":
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
