-- One batch into the views (sql/functions/project-events.sql), with the projector's checkpoint
-- and notification when $8 names it.
select threadlog_project_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
