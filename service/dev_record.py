"""Where a running `threadlog dev` has its servers, so every other command can find them.

`threadlog dev` picks free ports at each start; it writes them to `<data dir>/dev.json` once
everything listens and removes the file when it stops. A record counts only while the data
directory's lock is held (devservers.in_use) and its process lives: a dev killed with SIGKILL
leaves its file, but neither its lock nor its process, and the next dev replaces the file as
soon as it holds the lock.
"""

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .devservers import alive, in_use

RECORD = "dev.json"
DEFAULT_DATA_DIR = ".threadlog"


@dataclass(frozen=True)
class DevRecord:
    database_url: str
    redis_url: str
    api_url: str
    api_key: str
    pid: int


def write(data_dir: Path, record: DevRecord) -> None:
    path = Path(data_dir) / RECORD
    partial = path.with_suffix(".tmp")
    partial.unlink(missing_ok=True)
    # Readable by its owner only from the start: it holds the development key.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(json.dumps(asdict(record), indent=2) + "\n")
    os.replace(partial, path)


def clear(data_dir: Path) -> None:
    (Path(data_dir) / RECORD).unlink(missing_ok=True)


def running(data_dir: Path) -> DevRecord | None:
    """The record of the `threadlog dev` running on `data_dir`, or None. A dev that is still
    starting holds the lock before it has replaced a record left by one killed earlier: a
    record whose process is gone is that one."""
    path = Path(data_dir) / RECORD
    if not in_use(data_dir):
        return None
    try:
        record = DevRecord(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None  # still starting, or not a record of ours
    return record if alive(record.pid) else None
