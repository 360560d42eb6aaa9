-- How far each consumer of the log is behind: events after its checkpoint, and the age of the
-- oldest of them. Bounded work whatever the lag: a count capped at $1, one index probe for age.
select c.name,
       (select count(*) from (
            select 1 from events e
            where (e.transaction_id, e.global_position) > (c.transaction_id, c.global_position)
            limit $1
        ) behind) as events,
       coalesce(extract(epoch from clock_timestamp() - (
            select e.recorded_at from events e
            where (e.transaction_id, e.global_position) > (c.transaction_id, c.global_position)
            order by e.transaction_id, e.global_position
            limit 1
        )), 0)::float8 as seconds
from log_checkpoints c
