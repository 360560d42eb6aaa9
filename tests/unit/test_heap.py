"""A server process hides what start-up made from the garbage collector's full collections."""

import gc

from service import heap


def test_settle_leaves_a_full_collection_only_what_came_after_it():
    before = len(gc.get_objects(generation=2))
    threshold = gc.get_threshold()
    try:
        heap.settle()
        assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
        # What survived the collection is frozen, and the oldest generation is left empty.
        assert gc.get_freeze_count() > before / 2 > 0
        assert len(gc.get_objects(generation=2)) < before / 100

        made_later = [[n] for n in range(1000)]
        gc.collect()
        oldest = gc.get_objects(generation=2)
        assert any(obj is made_later for obj in oldest), "a later object is still collected"
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
