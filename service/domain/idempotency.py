"""Idempotent writes: an Idempotency-Key becomes the ids of the events the request appends.

The event ids are derived from the project and the key, so a retry collides with the first
attempt on the log's unique event_id and appends nothing. The request's fingerprint (the
operation, its path and its validated body) is stored with the events: a retry with the same
fingerprint gets the first result, a reuse of the key for anything else is refused (Stripe's
semantics). Keys live as long as the log does, which is more than the 24 hours promised.
"""

import hashlib
import uuid
from typing import Any

import orjson

from .errors import InvalidRequest

_NAMESPACE = uuid.UUID("6f1d8e0a-3c57-4c8e-9a55-0b7f1f3a2e10")
KEY_MAX_LENGTH = 255


def event_ids(project: str, key: str | None, count: int) -> list[uuid.UUID]:
    if key is None:
        return [uuid.uuid4() for _ in range(count)]
    return [uuid.uuid5(_NAMESPACE, f"{project}\x00{key}\x00{i}") for i in range(count)]


def fingerprint(operation: str, path: dict[str, str], body: Any) -> str:
    canonical = orjson.dumps(
        {"operation": operation, "path": path, "body": body}, option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(canonical).hexdigest()


def _utf8(key: str) -> bool:
    """Header bytes that were not UTF-8 arrive as surrogate escapes, which no key may hold."""
    try:
        key.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_key(key: str | None) -> str | None:
    if key is not None and (not 1 <= len(key) <= KEY_MAX_LENGTH or "\x00" in key or not _utf8(key)):
        raise InvalidRequest(
            f"Invalid 'Idempotency-Key' header: expected 1 to {KEY_MAX_LENGTH} characters of "
            "UTF-8 text.",
            param="Idempotency-Key",
            code="invalid_value",
        )
    return key


def key_reused(key: str) -> InvalidRequest:
    return InvalidRequest(
        f"Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
        param="Idempotency-Key",
        code="idempotency_key_reused",
    )
