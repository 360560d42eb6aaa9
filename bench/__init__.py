"""The performance harness: threadlog against a bare endpoint, side by side.

`python -m bench` starts everything it measures (a fresh database, a Redis prefix, the threadlog
API and the bare endpoint as subprocesses), drives them over loopback HTTP, prints one table and
removes what it made. See docs/performance.md for the command, the figures and what limits them.
"""
