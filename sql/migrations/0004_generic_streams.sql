-- The log knows streams, not threads: a stream is named by its id and its category ("thread",
-- "conversation"), as message-db names a stream by category and id. Every event keeps its
-- global position, transaction id and version; only the names change, and every existing
-- stream is a thread. Adding a column with a constant default rewrites no row (Postgres 11+).
alter table events rename column thread_id to stream_id;
alter table events rename constraint events_thread_id_version_key to events_stream_id_version_key;
alter table events add column category text not null default 'thread';
alter table events alter column category drop default;

alter table stream_heads rename column thread_id to stream_id;
alter table stream_heads add column category text not null default 'thread';
alter table stream_heads alter column category drop default;

-- The thread-shaped functions give way to generic ones (sql/functions) and to one apply
-- function per view (sql/<resource>/functions); every earlier form of the append goes too.
drop function if exists threadlog_append_events(text, text, boolean, uuid[], text[], jsonb[], jsonb);
drop function if exists threadlog_append_events(
    text, text, boolean, bigint, boolean, uuid[], text[], jsonb[], jsonb
);
drop function if exists threadlog_append_events(
    text, text, boolean, bigint, boolean, uuid[], text[], jsonb[], jsonb, boolean
);
drop function if exists threadlog_project_events(
    jsonb, jsonb, text[], bigint[], text[], text[], bigint[], text, text, bigint
);
