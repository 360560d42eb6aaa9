-- Upserts messages to their state after the batch (events carry the whole state).
insert into message_view (thread_id, position, id, created_at, role, content, attachments,
                          metadata, assistant_id, run_id, status, incomplete_details,
                          completed_at, incomplete_at)
select thread_id, position, id, created_at, role, content, attachments, metadata, assistant_id,
       run_id, status, incomplete_details, completed_at, incomplete_at
from jsonb_to_recordset($1::jsonb) as r(
    thread_id text, position bigint, id text, created_at bigint, role text, content jsonb,
    attachments jsonb, metadata jsonb, assistant_id text, run_id text, status text,
    incomplete_details jsonb, completed_at bigint, incomplete_at bigint
)
on conflict (thread_id, position) do update
set content = excluded.content,
    attachments = excluded.attachments,
    metadata = excluded.metadata,
    status = excluded.status,
    incomplete_details = excluded.incomplete_details,
    completed_at = excluded.completed_at,
    incomplete_at = excluded.incomplete_at
