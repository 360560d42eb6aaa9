-- Read models. Only the projector writes these tables.
create table thread_view (
    id text primary key,
    project text not null,
    created_at bigint not null,
    metadata jsonb not null,
    tool_resources jsonb not null,
    -- The last thread version applied here; readers wait for it to reach the stream head.
    version bigint not null
);

-- Keyed by (thread_id, position) so a page of a list is one index range scan, whatever the size
-- of the thread or of the table. position is the thread version of the MessageCreated event.
create table message_view (
    thread_id text not null,
    position bigint not null,
    id text not null unique,
    created_at bigint not null,
    role text not null,
    content jsonb not null,
    attachments jsonb not null,
    metadata jsonb not null,
    assistant_id text,
    run_id text,
    status text not null,
    incomplete_details jsonb,
    completed_at bigint,
    incomplete_at bigint,
    primary key (thread_id, position)
);

-- Where each consumer of the log stands, as a position in commit order.
create table log_checkpoints (
    name text primary key,
    transaction_id xid8 not null,
    global_position bigint not null
);

insert into log_checkpoints (name, transaction_id, global_position)
values ('projector', '0', 0), ('relay', '0', 0);
