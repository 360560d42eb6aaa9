-- Appends events to one stream in a single statement (one round trip, one transaction).
--
-- The advisory lock comes before the first write so that the transaction id, assigned at that
-- write, is taken while holding the stream: commit order then matches version order, which the
-- commit-order reader relies on.
--
-- p_new_category: not null for a new stream of that category (its head is inserted); null to
-- append to an existing, not deleted stream of p_project, whose category the events take.
-- Returns no row when that stream does not exist for p_project.
-- p_expected_version: when not null, the append happens only if the stream is still at that
-- version (the caller decided from that state); otherwise it raises serialization_failure
-- (40001) and the caller decides again.
-- p_delete: the events end the stream; its head is marked deleted, and it is gone for readers.
-- p_notify: false when the caller wakes the log's consumers itself (they run in its process):
-- Postgres signals every listening session of the database for every notification, whatever
-- its channel, which cost more Postgres time per create than the insert did.
create or replace function threadlog_append_events(
    p_stream_id text,
    p_new_category text,
    p_project text,
    p_expected_version bigint,
    p_delete boolean,
    p_event_ids uuid[],
    p_types text[],
    p_data jsonb[],
    p_metadata jsonb,
    p_notify boolean
) returns table (first_version bigint, last_version bigint, transaction_id bigint,
                 last_position bigint)
language plpgsql as $$
declare
    v_count int := cardinality(p_event_ids);
    v_current bigint;
    v_category text := p_new_category;
    v_last bigint;
    v_position bigint;
begin
    perform pg_advisory_xact_lock(hashtextextended(p_stream_id, 0));
    if p_new_category is not null then
        insert into stream_heads (stream_id, category, project, version)
        values (p_stream_id, p_new_category, p_project, v_count)
        returning version into v_last;
    else
        select h.version, h.category into v_current, v_category
        from stream_heads h
        where h.stream_id = p_stream_id and h.project = p_project and not h.deleted;
        if v_current is null then
            return;
        end if;
        if p_expected_version is not null and v_current <> p_expected_version then
            raise exception 'stream % is at version %, not %',
                p_stream_id, v_current, p_expected_version
                using errcode = 'serialization_failure';
        end if;
        v_last := v_current + v_count;
        update stream_heads h set version = v_last, deleted = p_delete
        where h.stream_id = p_stream_id;
    end if;

    with inserted as (
        insert into events (stream_id, category, version, event_id, type, data, metadata)
        select p_stream_id, v_category, v_last - v_count + e.ord, e.event_id, e.type, e.data,
               p_metadata
        from unnest(p_event_ids, p_types, p_data) with ordinality as e(event_id, type, data, ord)
        returning events.global_position
    )
    select max(inserted.global_position) into v_position from inserted;

    if p_notify then
        perform pg_notify('threadlog_events', '');
    end if;

    return query
    select v_last - v_count + 1, v_last, pg_current_xact_id()::text::bigint, v_position;
end;
$$;
