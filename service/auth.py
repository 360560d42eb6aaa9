"""API keys: each belongs to a project, and a project sees only its own threads.

Keys are compared by their SHA-256 digest, so the lookup time says nothing about how much of
a guessed key was right, and the keys themselves are never logged.
"""

import hashlib

from .domain.errors import ApiError


class Unauthorized(ApiError):
    status = 401


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class ApiKeys:
    def __init__(self, keys: dict[str, str]) -> None:
        self._projects = {_digest(k): project for k, project in keys.items()}

    def project_for(self, authorization: str | None, api_key: str | None) -> str:
        """The project of the request's key, from `Authorization: Bearer` or `api-key`."""
        key = api_key
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() == "bearer":
                key = token.strip()
        if not key:
            raise Unauthorized(
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                code="invalid_api_key",
            )
        project = self._projects.get(_digest(key))
        if project is None:
            raise Unauthorized("Incorrect API key provided.", code="invalid_api_key")
        return project
