"""Seeding in SQL: a million messages through HTTP would take longer than the whole run.

threadlog's log gets exactly what its write path appends (service/threads/events.py through
sql/functions/append-events.sql): per thread one `ThreadCreated` at version 1, then one
`MessageCreated` per message at versions 2, 3, ... without gaps, each with the whole state in
`data` and `{"project", "request_id"}` in `metadata`, and one `stream_heads` row at the last
version. `transaction_id` and `recorded_at` take their defaults, as in an append. The views are
left to the projector, which is what the rebuild rate measures.

Threads are written in transactions of about `chunk` events, in commit order, each a single
INSERT ... SELECT over generate_series. Within a transaction the threads of each group of
`interleave` are round-robin (version 1 of all, then version 2 of all, ...), so a projector
batch touches many threads, as it does when many conversations are active at once; versions stay
in commit order per thread, which the log requires.

The bare endpoint's table gets the same threads and sizes, rows shaped as its POST writes them.
"""

import secrets
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg

_ALPHABET = string.ascii_letters + string.digits


def new_thread_id() -> str:
    return "thread_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


# The text of every seeded message, about as long as a short chat turn (threadlog's created
# messages use the same, see load.py).
TEXT = "How does AI work? Explain it in simple terms, with an example or two, please."

THREADLOG_EVENTS = """
insert into events (stream_id, category, version, event_id, type, data, metadata)
select t.id,
       'thread',
       v.version,
       gen_random_uuid(),
       case when v.version = 1 then 'ThreadCreated' else 'MessageCreated' end,
       case when v.version = 1 then
           jsonb_build_object('id', t.id, 'created_at', $4::bigint, 'metadata', '{}'::jsonb,
                              'tool_resources', '{}'::jsonb)
       else
           jsonb_build_object(
               'id', 'msg_' || substr(md5(t.id || '/' || v.version), 1, 24),
               'thread_id', t.id,
               'created_at', $4::bigint,
               'role', 'user',
               'content', jsonb_build_array(jsonb_build_object(
                   'type', 'text',
                   'text', jsonb_build_object('value', $5::text || ' #' || (v.version - 1),
                                              'annotations', '[]'::jsonb))),
               'attachments', '[]'::jsonb,
               'metadata', '{}'::jsonb,
               'assistant_id', null,
               'run_id', null)
       end,
       jsonb_build_object('project', $6::text, 'request_id', md5(t.id || '#' || v.version))
from unnest($1::text[]) with ordinality as t(id, ord)
cross join generate_series($2::bigint, $3::bigint) as v(version)
order by (t.ord - 1) / $7::bigint, v.version, t.ord
"""

THREADLOG_HEADS = """
insert into stream_heads (stream_id, category, project, version)
select h.stream_id, 'thread', $2::text, h.version
from unnest($1::text[], $3::bigint[]) as h(stream_id, version)
"""

BARE_ROWS = """
insert into bare_message_view (thread_id, position, id, created_at, role, content, attachments,
                               metadata, status)
select t.id,
       nextval('bare_position'),
       'msg_' || substr(md5('bare/' || t.id || '/' || v.n), 1, 24),
       $4::bigint,
       'user',
       jsonb_build_array(jsonb_build_object(
           'type', 'text',
           'text', jsonb_build_object('value', $5::text || ' #' || v.n,
                                      'annotations', '[]'::jsonb))),
       '[]'::jsonb,
       '{}'::jsonb,
       'completed'
from unnest($1::text[]) with ordinality as t(id, ord)
cross join generate_series($2::bigint, $3::bigint) as v(n)
order by (t.ord - 1) / $6::bigint, v.n, t.ord
"""

# Moves the relay past the seed: seeded history counts as published long ago (and trimmed from
# Redis), so the relay does not compete with the projector for the CPU while it rebuilds.
SKIP_RELAY = """
update log_checkpoints c
set transaction_id = e.transaction_id, global_position = e.global_position
from (select transaction_id, global_position from events
      order by transaction_id desc, global_position desc limit 1) e
where c.name = 'relay'
"""


@dataclass(frozen=True)
class Thread:
    id: str
    messages: int


@dataclass(frozen=True)
class Seeded:
    rows: int
    seconds: float


def _segments(sizes: list[tuple[str, int]], chunk: int) -> Iterator[tuple[list[str], int, int]]:
    """(thread ids, first, last) units per transaction: threads of equal size together, a thread
    larger than a chunk split by range, in order."""
    by_size: dict[int, list[str]] = {}
    for thread_id, units in sizes:
        by_size.setdefault(units, []).append(thread_id)
    for units, ids in by_size.items():
        if units >= chunk:
            for thread_id in ids:
                for first in range(1, units + 1, chunk):
                    yield [thread_id], first, min(units, first + chunk - 1)
        else:
            per = max(1, chunk // units)
            for i in range(0, len(ids), per):
                yield ids[i : i + per], 1, units


async def seed_threadlog(
    conn: asyncpg.Connection,
    threads: list[Thread],
    *,
    project: str,
    chunk: int = 100_000,
    interleave: int = 100,
) -> Seeded:
    """Appends the threads' events to the log as the service would; returns events written."""
    started = time.monotonic()
    created_at = int(time.time())
    sizes = [(t.id, t.messages + 1) for t in threads]  # + ThreadCreated
    rows = 0
    for ids, first, last in _segments(sizes, chunk):
        async with conn.transaction():
            await conn.execute(
                THREADLOG_EVENTS, ids, first, last, created_at, TEXT, project, interleave
            )
        rows += len(ids) * (last - first + 1)
    await conn.execute(THREADLOG_HEADS, [t.id for t in threads], project, [n for _, n in sizes])
    await conn.execute(SKIP_RELAY)
    return Seeded(rows, time.monotonic() - started)


async def seed_bare(
    conn: asyncpg.Connection, threads: list[Thread], *, chunk: int = 100_000, interleave: int = 100
) -> Seeded:
    started = time.monotonic()
    created_at = int(time.time())
    sizes = [(t.id, t.messages) for t in threads if t.messages > 0]
    rows = 0
    for ids, first, last in _segments(sizes, chunk):
        await conn.execute(BARE_ROWS, ids, first, last, created_at, TEXT, interleave)
        rows += len(ids) * (last - first + 1)
    return Seeded(rows, time.monotonic() - started)


def filler(total: int, present: int, named: int, thread_size: int) -> list[Thread]:
    """Threads of `thread_size` messages that bring a table of `present` rows, plus `named`
    rows about to be seeded, to about `total`."""
    missing = total - present - named
    count = max(0, round(missing / thread_size)) if thread_size > 0 else 0
    return [Thread(new_thread_id(), thread_size) for _ in range(count)]
