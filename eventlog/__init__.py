"""The log's kernel: streams of events in Postgres, read in commit order, published to Redis.

Everything here is generic: a stream is named by its category and id (message-db's model), and
nothing in the kernel knows what a thread or a conversation is. Resources (service/threads/,
...) describe their events and projections to `registry`; the HTTP side (service/) and the
consumers (projections/) import this package, and it imports neither.
"""
