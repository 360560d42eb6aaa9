select transaction_id::text::bigint as transaction_id, global_position
from log_checkpoints
where name = $1
