"""Keys stored in the database: `threadlog keys create/list/revoke`, shown once, stored hashed."""

import httpx

from .helpers import threadlog


async def _threadlog(settings, *args: str) -> tuple[int, str]:
    env = {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}
    return await threadlog(env, *args, stderr_too=True)


async def test_create_use_list_revoke(settings, base_url, start_server, db):
    code, out = await _threadlog(settings, "keys", "create", "--project", "cli-project")
    assert code == 0, out
    key_id, key = out.splitlines()[0].split()[0], out.splitlines()[1]
    assert key.startswith("sk-tl-")
    # Only a digest is stored.
    stored = await db.fetchrow("select * from api_keys where id = $1", key_id)
    assert key not in str(dict(stored))

    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}) as http:
        created = await http.post(f"{base_url}/threads", json={})
        assert created.status_code == 200
        owner = await db.fetchval(
            "select project from stream_heads where stream_id = $1", created.json()["id"]
        )
        assert owner == "cli-project"

        code, listing = await _threadlog(settings, "keys", "list")
        assert code == 0 and key_id in listing and "cli-project" in listing
        assert key not in listing

        code, out = await _threadlog(settings, "keys", "revoke", key_id)
        assert code == 0, out
        # A process that has not seen the key yet refuses it at once (others within seconds).
        fresh = await start_server(settings, workers=False)
        refused = await http.post(f"{fresh}/threads", json={})
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_api_key"

    code, _ = await _threadlog(settings, "keys", "revoke", key_id)
    assert code != 0
