"""Where the API's CPU time goes: py-spy on the API process during an extra, unmeasured run.

py-spy samples the process from outside (`record --format raw`: one line per distinct stack
with its sample count). Sampling costs CPU on a two-core machine, so it never runs during a
measured scenario; `--profile DIR` adds one profiled create run and one profiled list run after
them. The summary groups samples by the package of the innermost frame of ours or of a library
(service/projections, asyncpg, aiohttp, redis, pydantic, orjson, asyncio/uvloop) and lists the
functions with the most samples by themselves, and this project's functions with the samples
spent under them (which request path, the projector, the relay...).
"""

import asyncio
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

# Packages by which samples are grouped, by a fragment of the frame's file name.
GROUPS = [
    ("service/", "service"),
    ("projections/", "projections"),
    ("asyncpg", "asyncpg"),
    ("aiohttp", "aiohttp"),
    ("multidict", "aiohttp"),
    ("yarl", "aiohttp"),
    ("redis", "redis"),
    ("pydantic", "pydantic"),
    ("orjson", "orjson"),
    ("prometheus", "prometheus_client"),
    ("asyncio", "asyncio/uvloop"),
    ("uvloop", "asyncio/uvloop"),
]


# Frames of this project's code, as py-spy names them: "function (service/handlers.py)".
_OURS = re.compile(r"\((service|projections)/")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def record(pid: int, seconds: float, out: Path, *, rate: int = 100, native: bool = False):
    """Starts py-spy on `pid` for `seconds`; await the returned process to finish."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    argv = [
        exe,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--nolineno",
        "--nonblocking",
        "--output",
        str(out),
    ]
    if native:
        argv.append("--native")
    return await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )


def _group(frame: str) -> str:
    for fragment, name in GROUPS:
        if fragment in frame:
            return name
    return "other"


def summarize(raw: Path, *, seconds: float, rate: int = 100, top: int = 12) -> str:
    """A text summary of a py-spy raw file: busy share, packages, hottest functions."""
    stacks: Counter = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    total = sum(stacks.values())
    if total == 0:
        return f"{raw.name}: no samples"
    own: Counter = Counter()
    inclusive: Counter = Counter()
    groups: Counter = Counter()
    for stack, count in stacks.items():
        frames = stack.split(";")
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        # The innermost frame that is ours or a known library names the sample's package.
        named = next((g for g in map(_group, reversed(frames)) if g != "other"), "other")
        groups[named] += count
    busy = total / (seconds * rate)
    out = [f"{raw.name}: {total} samples, busy {busy:.0%} of one core (sampled, not idle)"]
    out.append("  by package (innermost known frame): ")
    out.extend(f"    {n / total:6.1%}  {g}" for g, n in groups.most_common())
    out.append("  functions, own samples:")
    out.extend(f"    {n / total:6.1%}  {f}" for f, n in own.most_common(top))
    # Including callees, only this project's functions: which of its paths the time is under.
    ours = Counter({f: n for f, n in inclusive.items() if _OURS.search(f)})
    out.append("  this project's functions, including callees:")
    out.extend(f"    {n / total:6.1%}  {f}" for f, n in ours.most_common(top * 2))
    return "\n".join(out)
