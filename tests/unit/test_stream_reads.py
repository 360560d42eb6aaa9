"""The two ways of waiting on several blocking reads (projections/stream_reads.py), with reads
that answer when the test says so."""

import asyncio

import pytest

from projections.stream_reads import ConcurrentReads, first_answer


class Reads:
    """One blocking read per group of keys; `answer(key, ...)` makes the read of that key
    return, `fail(key, ...)` makes it raise."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.cancelled: list[str] = []
        self._answers: dict[str, asyncio.Future] = {}

    def _future(self, key: str) -> asyncio.Future:
        return self._answers.setdefault(key, asyncio.get_running_loop().create_future())

    async def read(self, keys: list[str]) -> list[str]:
        (key,) = keys
        self.started.append(key)
        try:
            return await self._future(key)
        except asyncio.CancelledError:
            self.cancelled.append(key)
            raise
        finally:
            self._answers.pop(key, None)

    def answer(self, key: str, *entries: str) -> None:
        self._future(key).set_result(list(entries))

    def fail(self, key: str, error: Exception) -> None:
        self._future(key).set_exception(error)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_the_first_answer_is_handed_out_and_the_others_stay_in_flight():
    reads = Reads()
    concurrent = ConcurrentReads(reads.read, [["a"], ["b"], ["c"]])
    waiting = asyncio.ensure_future(concurrent.next())
    await _settle()
    reads.answer("b", "b1")
    assert await waiting == ["b1"]
    # The next call starts a read for b again, and only for b: a and c are still in flight.
    waiting = asyncio.ensure_future(concurrent.next())
    await _settle()
    assert sorted(reads.started) == ["a", "b", "b", "c"]
    reads.answer("a", "a1")
    assert await waiting == ["a1"]
    await concurrent.cancel()
    assert sorted(reads.cancelled) == ["b", "c"]


async def test_answers_beside_a_failed_read_come_after_its_error():
    reads = Reads()
    concurrent = ConcurrentReads(reads.read, [["a"], ["b"]])
    waiting = asyncio.ensure_future(concurrent.next())
    await _settle()
    reads.answer("a", "a1")
    reads.fail("b", ConnectionError("b is away"))
    with pytest.raises(ConnectionError):
        await waiting
    assert await concurrent.next() == ["a1"]  # not lost, and not read again
    assert reads.started == ["a", "b"]
    await concurrent.cancel()


async def test_one_group_is_read_directly():
    reads = Reads()
    concurrent = ConcurrentReads(reads.read, [["a"]])
    waiting = asyncio.ensure_future(concurrent.next())
    await _settle()
    reads.answer("a", "a1")
    assert await waiting == ["a1"]
    await concurrent.cancel()
    assert reads.cancelled == []


async def test_first_answer_cancels_the_rest_but_keeps_what_also_answered():
    reads = Reads()
    waiting = asyncio.ensure_future(
        first_answer([reads.read(["a"]), reads.read(["b"]), reads.read(["c"])])
    )
    await _settle()
    reads.answer("a", "a1")
    reads.answer("c", "c1")  # in the same moment: handed out too, not stranded
    assert await waiting == ["a1", "c1"]
    assert reads.cancelled == ["b"]


async def test_first_answer_raises_only_when_nothing_answered():
    reads = Reads()
    waiting = asyncio.ensure_future(first_answer([reads.read(["a"]), reads.read(["b"])]))
    await _settle()
    reads.fail("a", ConnectionError("a is away"))
    with pytest.raises(ConnectionError):
        await waiting
    assert reads.cancelled == ["b"]
