"""The SQL files as the code sends them."""

import re

from eventlog.database import LOOKED_UP_AT_CONNECT
from eventlog.sql import SQL_DIR


def test_sql_passes_no_array_type_that_a_new_connection_would_look_up_on_first_use():
    used = set()
    for path in SQL_DIR.rglob("*.sql"):
        text = re.sub(r"--[^\n]*", "", path.read_text())
        used |= {t.lower() for t in re.findall(r"(\w+)\[\]", text)}
    assert used, "the pattern found no array type at all"
    # asyncpg knows text[] by heart; every other one is looked up when the connection opens.
    assert used - {"text"} <= set(LOOKED_UP_AT_CONNECT)
