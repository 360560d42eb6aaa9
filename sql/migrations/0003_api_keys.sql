-- API keys managed with `threadlog keys`. Only a SHA-256 digest of each key is stored; the key
-- itself is shown once, when it is created.
create table api_keys (
    id text primary key,
    project text not null,
    key_digest bytea not null unique,
    -- The first characters of the key, so an operator can tell keys apart in `keys list`.
    key_prefix text not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);
