"""Count the SQL statements a block runs: the one helper for the no-N+1 tests.

Several tests prove a page or service takes the same number of statements for few
and for many rows; they all listen on the engine the same way, so that lives here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from flask.testing import FlaskClient
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


def page_statements(
    client: FlaskClient, engine: Engine, paths: Iterable[str], shows: str
) -> tuple[int, ...]:
    """Statements each page in ``paths`` takes once warm; each must answer 200 and show ``shows``.

    The first GET is the warm-up (the session's last_seen refresh and the like), so only
    the statements the page itself needs are counted.
    """
    counts = []
    for path in paths:
        client.get(path)
        with statements(engine) as seen:
            response = client.get(path)
        assert response.status_code == 200, path
        assert shows in response.get_data(as_text=True), path
        counts.append(len(seen))
    return tuple(counts)
