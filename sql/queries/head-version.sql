-- A thread's current version from its stream head (None: no such thread for this project, or
-- deleted): what a read on a replica must see before it answers.
select version from stream_heads where thread_id = $1 and project = $2 and not deleted
