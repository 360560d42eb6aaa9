-- One page of a thread's messages, scanning position ascending: one index range scan on
-- message_view (thread_id, position), whatever the size of the thread or the table.
-- $3 and $4 are message ids whose positions bound the page (exclusive; null for none);
-- their positions come back so the caller can tell a cursor that is not in the thread.
-- The stream head's version and the view's version come back too, for read-your-writes.
with head as (
    select h.version as head_version, coalesce(t.version, 0) as view_version
    from stream_heads h
    left join thread_view t on t.id = h.stream_id
    where h.stream_id = $1 and h.project = $2 and not h.deleted
), bounds as (
    select (select position from message_view where thread_id = $1 and id = $3) as lower_position,
           (select position from message_view where thread_id = $1 and id = $4) as upper_position
)
select head.head_version, head.view_version, bounds.lower_position, bounds.upper_position,
       page.*
from head
cross join bounds
left join lateral (
    select bounded.*
    from (
        select m.*
        from message_view m
        where m.thread_id = $1
          and m.position > coalesce(bounds.lower_position, 0)
          and m.position < coalesce(bounds.upper_position, 9223372036854775807)
          and ($6::text is null or m.run_id = $6::text)
        order by m.position asc
        -- A constant bound, the largest page there is (limit 100, plus one row to tell
        -- has_more), gives every plan a row estimate of one page, a generic plan included (it
        -- cannot see $5): walking the index then always beats reading the whole thread and
        -- sorting it. $5 stops the walk where the page ends.
        limit 101
    ) bounded
    limit $5
) page on true
