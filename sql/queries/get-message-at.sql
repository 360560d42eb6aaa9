select * from message_view where thread_id = $1 and position = $2
