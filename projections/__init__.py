"""Consumers of the event log: the projector (views) and the relay (Redis streams)."""
