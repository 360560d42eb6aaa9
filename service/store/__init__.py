"""The API process's own adapters to Postgres: API keys, and waiting for the projector."""
