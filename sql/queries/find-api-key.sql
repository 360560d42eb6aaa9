select project from api_keys where key_digest = $1 and revoked_at is null
