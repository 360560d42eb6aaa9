"""SQL lives in the top-level sql/ folder as .sql files; this finds and caches them by name.

The kernel's own statements are in sql/queries and sql/functions; a resource keeps its own in
sql/<resource>/queries and sql/<resource>/functions, named here as "<resource>/<name>".
Migrations are one numbered sequence for all, in sql/migrations.
"""

from functools import cache
from pathlib import Path

# sql/ is installed beside this package (see pyproject's wheel packages), and sits there in a
# source checkout too.
SQL_DIR = Path(__file__).resolve().parents[1] / "sql"


@cache
def query(name: str) -> str:
    """The text of sql/queries/<name>.sql, or of sql/<resource>/queries/<name>.sql for a name
    "<resource>/<name>"."""
    folder, _, stem = name.rpartition("/")
    return (SQL_DIR / folder / "queries" / f"{stem}.sql").read_text()


def migrations() -> list[tuple[str, str]]:
    """(name, text) of every numbered migration, in the order they apply."""
    return [(p.stem, p.read_text()) for p in sorted((SQL_DIR / "migrations").glob("*.sql"))]


def functions() -> list[tuple[str, str]]:
    """(name, text) of every function definition, the kernel's first; each is a 'create or
    replace', so the order among a folder's files does not matter."""
    paths = sorted((SQL_DIR / "functions").glob("*.sql"))
    paths += sorted(SQL_DIR.glob("*/functions/*.sql"))
    return [(p.stem, p.read_text()) for p in paths]
