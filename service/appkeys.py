"""Typed keys for what the app and each request carry."""

from aiohttp import web

from .auth import ApiKeys
from .config import Settings
from .operations import Context

SETTINGS = web.AppKey("settings", Settings)
API_KEYS = web.AppKey("api_keys", ApiKeys)
CONTEXT = web.AppKey("context", Context)

# Per request (set by the auth middleware).
PROJECT = web.RequestKey("project", str)
REQUEST_ID = web.RequestKey("request_id", str)
# The response shape: "v2" on /v1 routes; on Azure's /openai routes, what api-version says.
SHAPE = web.RequestKey("shape", str)
