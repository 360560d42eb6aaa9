select pg_notify('threadlog_projected', $1)
