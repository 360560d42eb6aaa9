"""A minimal Server-Sent Events reader for the tests, over a real aiohttp connection."""

import asyncio
from dataclasses import dataclass

import aiohttp


@dataclass
class Frame:
    event: str | None
    data: str
    id: str | None


class SseStream:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.comments: list[str] = []

    async def next(self, seconds: float = 5.0) -> Frame | None:
        """The next frame, or None when the server ended the stream."""
        fields: dict[str, str] = {}
        while True:
            raw = await asyncio.wait_for(self.response.content.readline(), seconds)
            if not raw:
                return None
            line = raw.decode().rstrip("\n")
            if line.startswith(":"):
                self.comments.append(line)
                continue
            if line == "":
                if fields:
                    return Frame(fields.get("event"), fields.get("data", ""), fields.get("id"))
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")

    async def take(self, count: int, seconds: float = 5.0) -> list[Frame]:
        return [await self.next(seconds) for _ in range(count)]
