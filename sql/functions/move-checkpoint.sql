-- Moves a log consumer's checkpoint to a position in commit order, only ever forward, so a
-- stale writer (a standby that was active a moment ago, a rebuild racing the projector) can
-- never move one back.
--
-- plpgsql rather than a plain SQL function: plpgsql keeps its statement's plan for the session,
-- where a SQL function called from another function is parsed and planned on every call (a
-- third of a one-event projector batch's Postgres time).
create or replace function threadlog_move_checkpoint(
    p_name text,
    p_transaction_id text,
    p_position bigint
) returns void
language plpgsql
set plan_cache_mode = force_generic_plan
as $$
begin
    update log_checkpoints c
    set transaction_id = p_transaction_id::xid8, global_position = p_position
    where c.name = p_name
      and (c.transaction_id, c.global_position) < (p_transaction_id::xid8, p_position);
end;
$$;
