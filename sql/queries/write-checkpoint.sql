select threadlog_move_checkpoint($1, $2, $3)
