-- The events an idempotent request appended, found by their derived ids.
select global_position, transaction_id::text::bigint as transaction_id, stream_id, category,
       version, event_id, type, data, metadata, recorded_at
from events
where event_id = any($1::uuid[])
order by version
