"""API keys: each belongs to a project, and a project sees only its own threads.

Keys come from THREADLOG_API_KEYS and from the api_keys table (`threadlog keys`). They are
compared by their SHA-256 digest, so a lookup's time says nothing about how much of a guessed
key was right, and the keys themselves are never stored or logged. Table lookups are cached
for a few seconds: a revoked key stops working within that time.
"""

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable

from .domain.errors import ApiError

CACHE_SECONDS = 5.0
CACHE_MAX = 10_000

Lookup = Callable[[bytes], Awaitable[str | None]]


class Unauthorized(ApiError):
    status = 401


def digest(key: str) -> bytes:
    # Header bytes that are not UTF-8 reach us as surrogate escapes: they go back to the bytes
    # that were sent, which match no key, rather than failing to encode.
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()


def new_key() -> tuple[str, str]:
    """(key id, secret key) for a new key: the id names it, the key is shown once."""
    return "key_" + secrets.token_hex(8), "sk-tl-" + secrets.token_urlsafe(32)


class ApiKeys:
    def __init__(self, keys: dict[str, str], lookup: Lookup | None = None) -> None:
        self._static = {digest(k): project for k, project in keys.items()}
        self.lookup = lookup
        self._cache: dict[bytes, tuple[float, str | None]] = {}

    async def project_for(self, authorization: str | None, api_key: str | None) -> str:
        """The project of the request's key, from `Authorization: Bearer` or `api-key`."""
        key = api_key
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() == "bearer":
                key = token.strip()
        if not key:
            raise Unauthorized(
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), "
                "or in an api-key header.",
                code="invalid_api_key",
            )
        key_digest = digest(key)
        project = self._static.get(key_digest) or await self._looked_up(key_digest)
        if project is None:
            raise Unauthorized("Incorrect API key provided.", code="invalid_api_key")
        return project

    async def _looked_up(self, key_digest: bytes) -> str | None:
        if self.lookup is None:
            return None
        now = time.monotonic()
        cached = self._cache.get(key_digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        project = await self.lookup(key_digest)
        if len(self._cache) >= CACHE_MAX:
            self._cache.clear()
        self._cache[key_digest] = (now + CACHE_SECONDS, project)
        return project
