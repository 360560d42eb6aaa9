"""Typed keys for what the app and each request carry."""

from aiohttp import web

from .auth import ApiKeys
from .config import Settings
from .operations import Context

SETTINGS = web.AppKey("settings", Settings)
API_KEYS = web.AppKey("api_keys", ApiKeys)
CONTEXT = web.AppKey("context", Context)

# Per request (set by the auth middleware).
PROJECT = "threadlog.project"
REQUEST_ID = "threadlog.request_id"
