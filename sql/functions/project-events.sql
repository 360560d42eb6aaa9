-- Writes what a batch of events does to the views, in one statement (one round trip, and no
-- BEGIN/COMMIT of its own: a single statement is atomic), and, for the live projector, moves
-- its checkpoint and notifies 'threadlog_projected' in the same transaction.
--
-- The caller folds the batch to each row's final state (service/domain/state.py) and passes:
-- p_threads / p_messages: JSON arrays of thread and message rows to upsert (events carry the
-- whole state); p_deleted_message_threads / _positions: messages to delete; p_deleted_threads:
-- threads to delete with their messages; p_version_threads / p_versions: each touched thread's
-- new projected version. p_consumer (null for a rebuild or verification, which move no
-- checkpoint) with p_transaction_id and p_position: the batch's last event.
--
-- Table names are unqualified on purpose: the caller's search_path picks the tables (the live
-- views, a rebuild's fresh ones, or a verification's temporary ones); Postgres re-plans the
-- function's statements when the search_path changes.
--
-- Generic plans: each statement joins a batch's arrays to a view by its key, and the best plan
-- does not depend on the values; Postgres would otherwise plan each statement anew for each
-- batch (a third of a small batch's time), as the arrays' sizes vary.
create or replace function threadlog_project_events(
    p_threads jsonb,
    p_messages jsonb,
    p_deleted_message_threads text[],
    p_deleted_message_positions bigint[],
    p_deleted_threads text[],
    p_version_threads text[],
    p_versions bigint[],
    p_consumer text,
    p_transaction_id text,
    p_position bigint
) returns void
language plpgsql
set plan_cache_mode = force_generic_plan
as $$
begin
    if jsonb_array_length(p_threads) > 0 then
        insert into thread_view (id, project, created_at, metadata, tool_resources, version)
        select id, project, created_at, metadata, tool_resources, version
        from jsonb_to_recordset(p_threads) as r(
            id text, project text, created_at bigint, metadata jsonb, tool_resources jsonb,
            version bigint
        )
        on conflict (id) do update
        set metadata = excluded.metadata,
            tool_resources = excluded.tool_resources;
    end if;

    if jsonb_array_length(p_messages) > 0 then
        insert into message_view (thread_id, position, id, created_at, role, content, attachments,
                                  metadata, assistant_id, run_id, status, incomplete_details,
                                  completed_at, incomplete_at)
        select thread_id, position, id, created_at, role, content, attachments, metadata,
               assistant_id, run_id, status, incomplete_details, completed_at, incomplete_at
        from jsonb_to_recordset(p_messages) as r(
            thread_id text, position bigint, id text, created_at bigint, role text,
            content jsonb, attachments jsonb, metadata jsonb, assistant_id text, run_id text,
            status text, incomplete_details jsonb, completed_at bigint, incomplete_at bigint
        )
        on conflict (thread_id, position) do update
        set content = excluded.content,
            attachments = excluded.attachments,
            metadata = excluded.metadata,
            status = excluded.status,
            incomplete_details = excluded.incomplete_details,
            completed_at = excluded.completed_at,
            incomplete_at = excluded.incomplete_at;
    end if;

    if cardinality(p_deleted_message_threads) > 0 then
        delete from message_view m
        using unnest(p_deleted_message_threads, p_deleted_message_positions)
            as d(thread_id, position)
        where m.thread_id = d.thread_id and m.position = d.position;
    end if;

    -- A deleted thread leaves the views with all its messages; its events stay in the log.
    -- Planned for the threads at hand (EXECUTE): a generic plan cannot tell a thread of three
    -- messages from one of a third of the table, and might scan the whole view for either.
    if cardinality(p_deleted_threads) > 0 then
        delete from thread_view where id = any(p_deleted_threads);
        execute 'delete from message_view where thread_id = any($1)' using p_deleted_threads;
    end if;

    -- Readers wait on each thread's projected version for read-your-writes.
    update thread_view t
    set version = v.version
    from unnest(p_version_threads, p_versions) as v(thread_id, version)
    where t.id = v.thread_id and t.version < v.version;

    if p_consumer is not null then
        perform threadlog_move_checkpoint(p_consumer, p_transaction_id, p_position);
        perform pg_notify('threadlog_projected', p_transaction_id || '-' || p_position);
    end if;
end;
$$;
