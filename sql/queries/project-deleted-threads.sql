-- A deleted thread leaves the views with all its messages; its events stay in the log.
with gone as (
    delete from thread_view where id = any($1::text[])
)
delete from message_view where thread_id = any($1::text[])
