-- Writes what a batch of events does to thread_view, in one call (the projector's statement
-- calls every view's apply function, and moves its checkpoint, in one round trip).
--
-- p_changes, folded by the thread projection (service/threads/projection.py) to each row's
-- final state: {"upserts": [thread rows], "deleted": [thread ids], "versions": [{"id",
-- "version"}: each touched thread's new projected version]}.
--
-- Table names are unqualified on purpose: the caller's search_path picks the table (the live
-- view, a rebuild's fresh one, or a verification's temporary one); Postgres re-plans the
-- function's statements when the search_path changes.
--
-- Generic plans: each statement joins a batch's rows to the view by its key, and the best plan
-- does not depend on the values; Postgres would otherwise plan each statement anew for each
-- batch (a third of a small batch's time), as the batches' sizes vary.
create or replace function threadlog_apply_thread_view(p_changes jsonb) returns void
language plpgsql
set plan_cache_mode = force_generic_plan
as $$
begin
    if jsonb_array_length(p_changes->'upserts') > 0 then
        insert into thread_view (id, project, created_at, metadata, tool_resources, version)
        select id, project, created_at, metadata, tool_resources, version
        from jsonb_to_recordset(p_changes->'upserts') as r(
            id text, project text, created_at bigint, metadata jsonb, tool_resources jsonb,
            version bigint
        )
        on conflict (id) do update
        set metadata = excluded.metadata,
            tool_resources = excluded.tool_resources;
    end if;

    -- A deleted thread leaves the view; its events stay in the log.
    if jsonb_array_length(p_changes->'deleted') > 0 then
        delete from thread_view
        where id = any(array(select jsonb_array_elements_text(p_changes->'deleted')));
    end if;

    -- Readers wait on each thread's projected version for read-your-writes.
    update thread_view t
    set version = v.version
    from jsonb_to_recordset(p_changes->'versions') as v(id text, version bigint)
    where t.id = v.id and t.version < v.version;
end;
$$;
