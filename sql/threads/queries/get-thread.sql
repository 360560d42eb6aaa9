-- A thread as its view holds it, with the stream head's version for read-your-writes.
select h.version as head_version, coalesce(t.version, 0) as view_version, t.*
from stream_heads h
left join thread_view t on t.id = h.stream_id
where h.stream_id = $1 and h.project = $2 and not h.deleted
