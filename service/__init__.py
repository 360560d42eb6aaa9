"""threadlog: an OpenAI-compatible threads & messages service, event-sourced on Postgres."""
