-- The event log: the only source of truth. Everything else in this database and in Redis is
-- derived from it and can be rebuilt.
create table events (
    global_position bigint generated always as identity primary key,
    -- Assigned at the transaction's first write, which comes after the thread's advisory lock,
    -- so (transaction_id, global_position) order agrees with each thread's version order.
    transaction_id xid8 not null default pg_current_xact_id(),
    thread_id text not null,
    version bigint not null,
    event_id uuid not null unique,
    type text not null,
    data jsonb not null,
    metadata jsonb not null default '{}',
    recorded_at timestamptz not null default clock_timestamp(),
    unique (thread_id, version)
);

-- Every consumer reads the log in commit order through this index.
create index events_commit_order on events (transaction_id, global_position);

-- One row per thread: the write model's concurrency point and ownership record.
create table stream_heads (
    thread_id text primary key,
    project text not null,
    version bigint not null,
    deleted boolean not null default false
);
