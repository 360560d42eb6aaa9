-- Moves a log consumer's checkpoint to a position in commit order, only ever forward, so a
-- stale writer (a standby that was active a moment ago, a rebuild racing the projector) can
-- never move one back.
create or replace function threadlog_move_checkpoint(
    p_name text,
    p_transaction_id text,
    p_position bigint
) returns void
language sql as $$
    update log_checkpoints c
    set transaction_id = p_transaction_id::xid8, global_position = p_position
    where c.name = p_name
      and (c.transaction_id, c.global_position) < (p_transaction_id::xid8, p_position);
$$;
