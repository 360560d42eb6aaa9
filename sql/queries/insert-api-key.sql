insert into api_keys (id, project, key_digest, key_prefix) values ($1, $2, $3, $4)
