"""Typed keys for what the app and each request carry."""

import asyncio

from aiohttp import web

from eventlog.database import Pool
from eventlog.redis_client import Client

from .auth import ApiKeys
from .config import Settings
from .context import Context
from .event_hub import EventHub
from .rate_limit import RateLimiter
from .store.projection_wait import ProjectionWait

SETTINGS = web.AppKey("settings", Settings)
API_KEYS = web.AppKey("api_keys", ApiKeys)
CONTEXT = web.AppKey("context", Context)
POOL = web.AppKey("pool", Pool)
# None without a read replica.
REPLICA = web.AppKey("replica", Pool | None)
PROJECTION = web.AppKey("projection", ProjectionWait)
REDIS = web.AppKey("redis", Client)
EVENT_HUB = web.AppKey("event_hub", EventHub)
# Set when the server begins shutting down, so long-lived streams end between events.
STOPPING = web.AppKey("stopping", asyncio.Event)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
# Requests being served right now, in a one-item list so middleware can change it in place.
INFLIGHT = web.AppKey("inflight", list)

# Per request (set by the auth middleware).
PROJECT = web.RequestKey("project", str)
REQUEST_ID = web.RequestKey("request_id", str)
# The response shape: "v2" on /v1 routes; on Azure's /openai routes, what api-version says.
SHAPE = web.RequestKey("shape", str)
