-- A stream's current version from its head (None: no such stream for this project, or
-- deleted): what a read on a replica must see before it answers.
select version from stream_heads where stream_id = $1 and project = $2 and not deleted
