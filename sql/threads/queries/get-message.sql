-- A message as its view holds it, with the thread's head and view versions.
select h.version as head_version, coalesce(t.version, 0) as view_version, m.*
from stream_heads h
left join thread_view t on t.id = h.stream_id
left join message_view m on m.thread_id = h.stream_id and m.id = $3
where h.stream_id = $1 and h.project = $2 and not h.deleted
