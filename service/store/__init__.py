"""Adapters to Postgres: the event store, the views, migrations, and waiting for projections."""
