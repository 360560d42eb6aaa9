delete from message_view m
using unnest($1::text[], $2::bigint[]) as d(thread_id, position)
where m.thread_id = d.thread_id and m.position = d.position
