"""The garbage collector, set for a long-running server process.

CPython's full collection walks every object the collector tracks, and most of a server's are
made at start-up and live as long as it does: modules, classes, pydantic's validators, the SQL
and metric registries. In the benchmark's API process that walk took 30-50 ms, a few times a
minute under load, with every request waiting behind it: most of the create latency's tail.
Freezing what start-up made moves it out of the collector's sight (it is still freed by
reference counting); only what came later is walked, in ~2 ms.
"""

import gc

# Tracked allocations (net of frees) between young collections; CPython's default is 700. With
# it, the benchmark's API process ran a young collection every ~35 requests and, every tenth of
# them, a middle one of up to 2-5 ms; with 10,000, the collector's time over the same run went
# from ~180 to ~130 ms, the longest pause staying near 2.5 ms. A server's young objects mostly
# die by reference counting within their request, so the larger generation costs little memory.
YOUNG_THRESHOLD = 10_000


def settle() -> None:
    """Once start-up is done: collects what start-up left behind, then freezes the rest.
    What is frozen is never collected as a cycle; start-up's objects live on anyway."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, oldest)
