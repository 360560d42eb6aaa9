-- Checkpoints only move forward, so a stale writer can never move one back.
update log_checkpoints
set transaction_id = $2::text::xid8, global_position = $3
where name = $1 and (transaction_id, global_position) < ($2::text::xid8, $3)
