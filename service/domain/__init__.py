"""What every resource's domain shares: request validation and its errors, ids, list queries
and page planning, idempotency, metadata, and the shared response objects.

Nothing here knows about aiohttp, asyncpg or redis; adapters translate to and from it.
"""
