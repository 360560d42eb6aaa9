select * from thread_view where id = $1 and project = $2
