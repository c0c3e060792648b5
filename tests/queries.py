"""Count the SQL statements a block runs: the one helper for the no-N+1 tests.

Several tests prove a page or service takes the same number of statements for few
and for many rows; they all listen on the engine the same way, so that lives here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Yield a list that collects every statement ``engine`` runs inside the block."""
    seen: list[str] = []

    def before(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
