"""Per-project request limits, counted in Redis so every API process shares one budget.

A fixed window per project, a minute by default (INCR + EXPIRE in one round trip). Over the
limit the request gets 429 with Retry-After: the seconds left in the window, which the openai
SDK waits for before retrying. If Redis is out of reach the limit is not enforced (logged):
losing rate limiting for a while is better than refusing every request.
"""

import logging
import time

from eventlog.redis_client import REDIS_ERRORS, Client

from .domain.errors import ApiError

log = logging.getLogger(__name__)


class RateLimited(ApiError):
    status = 429
    type = "requests"


class RateLimiter:
    def __init__(self, client: Client, prefix: str, limit: int, window_seconds: int = 60) -> None:
        self.client = client
        self.prefix = prefix
        self.limit = limit
        self.window_seconds = window_seconds

    async def check(self, project: str) -> None:
        if self.limit <= 0:
            return
        now = time.time()
        window = int(now // self.window_seconds)
        key = f"{self.prefix}:ratelimit:{{{project}}}:{window}"
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, 2 * self.window_seconds)
                count, _ = await pipe.execute()
        except REDIS_ERRORS as exc:
            log.warning("rate limit not enforced, Redis unavailable: %r", exc)
            return
        if count > self.limit:
            retry_after = max(1, int((window + 1) * self.window_seconds - now) + 1)
            error = RateLimited(
                f"Rate limit reached for requests: limit {self.limit} per "
                f"{self.window_seconds}s, used {count}. Please try again in {retry_after}s.",
                code="rate_limit_exceeded",
            )
            error.headers = {"Retry-After": str(retry_after)}
            raise error
