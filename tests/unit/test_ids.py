"""Object ids: OpenAI's shape, and every alphanumeric equally likely in every place."""

import string
from collections import Counter

from service.threads.events import new_message_id, new_thread_id

ALPHANUMERICS = set(string.ascii_letters + string.digits)


def test_ids_are_a_prefix_and_24_alphanumerics():
    for make, prefix in ((new_thread_id, "thread_"), (new_message_id, "msg_")):
        ids = [make() for _ in range(2000)]
        assert len(set(ids)) == len(ids)
        for each in ids:
            assert each.startswith(prefix)
            suffix = each.removeprefix(prefix)
            assert len(suffix) == 24 and set(suffix) <= ALPHANUMERICS, each


def test_every_alphanumeric_is_equally_likely_in_first_and_last_place():
    suffixes = [new_message_id().removeprefix("msg_") for _ in range(62_000)]
    for place in (0, 23):
        counts = Counter(s[place] for s in suffixes)
        assert set(counts) == ALPHANUMERICS
        # 1,000 expected each; a binomial's spread is about 32, so 800-1,200 is over 6 sigma.
        assert all(800 <= n <= 1200 for n in counts.values()), counts.most_common(3)
