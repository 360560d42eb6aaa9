select first_version, last_version, transaction_id, last_position
from threadlog_append_events($1, $2, $3, $4, $5, $6::uuid[], $7::text[], $8::jsonb[], $9::jsonb,
                             $10::boolean)
