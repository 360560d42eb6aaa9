-- The one reader of the log in commit order, shared by the projector and the relay.
-- transaction_id < xmin of the current snapshot: every transaction below it has finished, so no
-- event can still commit behind the cursor (a plain "global_position > $last" skips late commits).
select global_position,
       transaction_id::text::bigint as transaction_id,
       stream_id,
       category,
       version,
       event_id,
       type,
       data,
       metadata,
       recorded_at
from events
where (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
  and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
-- Qualified: the select list's alias "transaction_id" (a bigint) would otherwise be the sort
-- key, which no index provides, and every batch would sort the rest of the log.
order by events.transaction_id, events.global_position
limit $3
