-- Writes what a batch of events does to message_view, in one call (see
-- apply-thread-view.sql for the search_path and the generic plans).
--
-- p_changes, folded by the message projection (service/threads/projection.py) to each row's
-- final state: {"upserts": [message rows], "deleted": [{"thread_id", "position"}],
-- "deleted_threads": [thread ids whose messages all go]}.
create or replace function threadlog_apply_message_view(p_changes jsonb) returns void
language plpgsql
set plan_cache_mode = force_generic_plan
as $$
declare
    v_deleted_threads text[];
begin
    if jsonb_array_length(p_changes->'upserts') > 0 then
        insert into message_view (thread_id, position, id, created_at, role, content, attachments,
                                  metadata, assistant_id, run_id, status, incomplete_details,
                                  completed_at, incomplete_at)
        select thread_id, position, id, created_at, role, content, attachments, metadata,
               assistant_id, run_id, status, incomplete_details, completed_at, incomplete_at
        from jsonb_to_recordset(p_changes->'upserts') as r(
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

    if jsonb_array_length(p_changes->'deleted') > 0 then
        delete from message_view m
        using jsonb_to_recordset(p_changes->'deleted') as d(thread_id text, position bigint)
        where m.thread_id = d.thread_id and m.position = d.position;
    end if;

    -- A deleted thread's messages all leave the view. Planned for the threads at hand
    -- (EXECUTE): a generic plan cannot tell a thread of three messages from one of a third of
    -- the table, and might scan the whole view for either.
    if jsonb_array_length(p_changes->'deleted_threads') > 0 then
        select array_agg(t) into v_deleted_threads
        from jsonb_array_elements_text(p_changes->'deleted_threads') as t;
        execute 'delete from message_view where thread_id = any($1)' using v_deleted_threads;
    end if;
end;
$$;
