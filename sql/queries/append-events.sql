select first_version, last_version, transaction_id, last_position
from threadlog_append_events($1, $2, $3, $4::uuid[], $5::text[], $6::jsonb[], $7::jsonb)
