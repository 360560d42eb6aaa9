-- Upserts threads to their state after the batch (events carry the whole state).
insert into thread_view (id, project, created_at, metadata, tool_resources, version)
select id, project, created_at, metadata, tool_resources, version
from jsonb_to_recordset($1::jsonb) as r(
    id text, project text, created_at bigint, metadata jsonb, tool_resources jsonb, version bigint
)
on conflict (id) do update
set metadata = excluded.metadata,
    tool_resources = excluded.tool_resources
