"""Blocking reads of several Redis streams at once, on one server or across a Redis Cluster.

On one server a single XREAD (or XREADGROUP) names every stream. Redis Cluster refuses a
command whose keys hash to different slots, and the global stream's partitions do so by design
(each partition can live on its own shard). There, each slot's streams get their own blocking
read, all of them in flight at once: whichever answers first is handed out, and the others stay
in flight for the next call rather than being cancelled. Cancelling would cost the read's
connection, and a cancelled XREADGROUP whose answer was already on the wire would leave its
entries pending on a consumer that never saw them (until XAUTOCLAIM takes them back).
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from .redis_client import Client, is_cluster

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
        answers: list[T] = []
        error: BaseException | None = None
        for i, task in list(self._inflight.items()):
            if not task.done():
                continue
            del self._inflight[i]
            if task.cancelled():
                error = error or asyncio.CancelledError()
            elif task.exception() is not None:
                error = error or task.exception()
            else:
                answers.extend(task.result())
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
