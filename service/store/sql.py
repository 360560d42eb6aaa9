"""SQL lives in the top-level sql/ folder as .sql files; this finds and caches them by name."""

from functools import cache
from pathlib import Path

# sql/ is installed beside the service package (see pyproject's wheel packages), and sits there
# in a source checkout too.
SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@cache
def query(name: str) -> str:
    """The text of sql/queries/<name>.sql."""
    return (SQL_DIR / "queries" / f"{name}.sql").read_text()


def migrations() -> list[tuple[str, str]]:
    """(name, text) of every numbered migration, in the order they apply."""
    return [(p.stem, p.read_text()) for p in sorted((SQL_DIR / "migrations").glob("*.sql"))]


def functions() -> list[tuple[str, str]]:
    """(name, text) of every function definition; each is a 'create or replace'."""
    return [(p.stem, p.read_text()) for p in sorted((SQL_DIR / "functions").glob("*.sql"))]
