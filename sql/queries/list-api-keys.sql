select id, project, key_prefix, created_at, revoked_at from api_keys order by created_at, id
