-- The commit-order reader (read-log.sql) restricted to one stream, for backfilling a subscriber.
-- Within a stream, commit order is version order, so the (stream_id, version) index serves it.
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
where stream_id = $4
  and (transaction_id, global_position) > ($1::text::xid8, $2::bigint)
  and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
order by version
limit $3
