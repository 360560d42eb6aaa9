"""The domain: requests, events, how a thread evolves and how it is rendered.

Nothing here knows about aiohttp, asyncpg or redis; adapters translate to and from it.
"""
