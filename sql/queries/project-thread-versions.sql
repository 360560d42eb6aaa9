-- Moves each touched thread's projected version; readers wait on it for read-your-writes.
update thread_view t
set version = v.version
from unnest($1::text[], $2::bigint[]) as v(thread_id, version)
where t.id = v.thread_id and t.version < v.version
