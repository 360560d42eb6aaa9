"""Blocking reads of several Redis streams at once, on one server or across a Redis Cluster.

On one server a single XREAD (or XREADGROUP) names every stream. Redis Cluster refuses a
command whose keys hash to different slots, and the global stream's partitions do so by design
(each partition can live on its own shard). There, each slot's streams get their own blocking
read, all of them in flight at once.

Two ways to wait on them, for two kinds of read:
- `ConcurrentReads`, for XREAD (followers): whichever read answers first is handed out, and the
  others stay in flight for the next call rather than being cancelled, which would cost each
  its connection. An XREAD takes nothing from the server, so reading ahead of the caller is
  harmless.
- `first_answer`, for XREADGROUP: an answer moves entries to the consumer's pending list, so a
  read left in flight after the caller stopped asking would take entries for nobody (and the
  group would hand them to another member as idle). The first answer wins and the other reads
  are cancelled; one that answered meanwhile is handed out too, and one cancelled with its
  answer already on the wire leaves its entries pending, reclaimed as any crashed member's are.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from eventlog.redis_client import Client, is_cluster

T = TypeVar("T")


def read_groups(client: Client, keys: list[str]) -> list[list[str]]:
    """The keys one command may name together: all of them, or in a cluster those of a slot."""
    if not is_cluster(client) or len(keys) <= 1:
        return [keys]
    by_slot: dict[int, list[str]] = {}
    for key in keys:
        by_slot.setdefault(client.keyslot(key), []).append(key)
    return list(by_slot.values())


class ConcurrentReads(Generic[T]):
    """`next()` returns what the first of the groups' reads to answer returned (with any others
    that answered by then). A group's next read starts only once its last answer was handed
    out, so `read` may take its starting ids from state the caller has updated meanwhile."""

    def __init__(self, read: Callable[[list[str]], Awaitable[list[T]]], groups: list[list[str]]):
        self._read = read
        self._groups = groups
        self._inflight: dict[int, asyncio.Task[list[T]]] = {}
        # Answers that came in beside a failed read, handed out after its error.
        self._ready: list[T] = []

    async def next(self) -> list[T]:
        if self._ready:
            ready, self._ready = self._ready, []
            return ready
        if len(self._groups) == 1:
            return await self._read(self._groups[0])
        for i, group in enumerate(self._groups):
            if i not in self._inflight:
                self._inflight[i] = asyncio.create_task(self._read(group))
        await asyncio.wait(self._inflight.values(), return_when=asyncio.FIRST_COMPLETED)
        done = [i for i, task in self._inflight.items() if task.done()]
        answers, error = _answers([self._inflight.pop(i) for i in done])
        if error is not None:
            self._ready = answers
            raise error
        return answers

    async def cancel(self) -> None:
        """Stop the reads in flight (their answers are dropped; see the module's docstring)."""
        tasks, self._inflight = list(self._inflight.values()), {}
        self._ready = []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def first_answer(reads: list[Awaitable[list[T]]]) -> list[T]:
    """Runs the reads together until one answers; the rest are cancelled (see the docstring)."""
    tasks = [asyncio.ensure_future(read) for read in reads]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    answers, error = _answers(tasks)
    if error is not None and not answers:
        raise error
    return answers


def _answers(tasks: list[asyncio.Task[list[T]]]) -> tuple[list[T], BaseException | None]:
    """What the finished reads returned, in order, and the first error among them."""
    answers: list[T] = []
    error: BaseException | None = None
    for task in tasks:
        if task.cancelled():
            continue
        if task.exception() is not None:
            error = error or task.exception()
        else:
            answers.extend(task.result())
    return answers, error
