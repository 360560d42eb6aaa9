-- Where a stream's event stands in commit order, to wait for the projector to pass it.
select transaction_id::text::bigint as transaction_id, global_position
from events
where stream_id = $1 and version = $2
