"""Ranked, paginated search over project_search with the database's own engine.

PostgreSQL: the generated `tsv` column (title A, meta B, body C) with its GIN
index, websearch_to_tsquery and ts_rank_cd. SQLite: the FTS5 table
`project_search_fts` with bm25 weighted the same way. Rows are public projects
only (index.py), and the join re-checks visibility, so a stale row can never
show a project that was made private a moment ago.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy import text
from sqlmodel import Session, select

from ..models import Project, ProjectSearch, ProjectTag, Season, User, Visibility
from . import index
from .query import Query, fts5_match, websearch_text

PER_PAGE = 10
SNIPPET_CHARS = 220
# Objects of the engines' own indexes: not models, so autogenerate leaves them alone.
ENGINE_TABLE_PREFIX = "project_search_fts"
ENGINE_COLUMNS = {("project_search", "tsv")}
ENGINE_INDEXES = {"ix_project_search_tsv"}

_PG = """
SELECT s.project_id, ts_rank_cd(s.tsv, q) AS rank, count(*) OVER () AS total
FROM project_search s JOIN projects p ON p.id = s.project_id,
     websearch_to_tsquery('english', :q) q
WHERE s.tsv @@ q AND p.visibility = 'public'
ORDER BY rank DESC, s.project_id DESC LIMIT :limit OFFSET :offset
"""
_SQLITE = """
WITH m AS MATERIALIZED (
  SELECT rowid AS id, bm25(project_search_fts, 10.0, 4.0, 1.0) AS rank
  FROM project_search_fts WHERE project_search_fts MATCH :q
)
SELECT m.id, m.rank, count(*) OVER () AS total
FROM m JOIN projects p ON p.id = m.id
WHERE p.visibility = 'public'
ORDER BY m.rank, m.id DESC LIMIT :limit OFFSET :offset
"""


def is_engine_object(name: str | None, type_: str, parent_names: dict) -> bool:
    """True for the engine-specific index objects migration 0018 creates."""
    if name is None:
        return False
    if type_ == "table":
        return name.startswith(ENGINE_TABLE_PREFIX)
    if type_ == "column":
        return (parent_names.get("table_name"), name) in ENGINE_COLUMNS
    return type_ == "index" and name in ENGINE_INDEXES


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's include_name hook: everything but the engines' own objects."""
    return not is_engine_object(name, type_, parent_names)


@dataclass
class Hit:
    project: Project
    owner: User
    season: Season
    tags: list[ProjectTag]
    snippet: Markup


@dataclass
class Page:
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))


def search(session: Session, query: Query, page: int = 1) -> Page:
    """One page of public projects matching the query, best first."""
    _ensure_filled(session)
    postgres = session.get_bind().dialect.name == "postgresql"
    sql, q = (_PG, websearch_text(query)) if postgres else (_SQLITE, fts5_match(query))
    rows = session.execute(
        text(sql), {"q": q, "limit": PER_PAGE, "offset": (page - 1) * PER_PAGE}
    ).all()
    if not rows:
        return Page(page=page)
    ids = [r[0] for r in rows]
    return Page(hits=hits_for(session, ids, query.positive_words), total=rows[0][2], page=page)


def hits_for(session: Session, ids: list[int], words: list[str]) -> list[Hit]:
    """Cards for these public projects, in the given order."""
    found = {
        p.id: (p, u, s, d)
        for p, u, s, d in session.exec(
            select(Project, User, Season, ProjectSearch)
            .join(User, User.id == Project.owner_id)
            .join(Season, Season.id == Project.season_id)
            .join(ProjectSearch, ProjectSearch.project_id == Project.id, isouter=True)
            .where(Project.id.in_(ids), Project.visibility == Visibility.public)
        )
    }
    tags = tags_of(session, ids)
    hits = []
    for pid in ids:
        if pid not in found:
            continue
        project, owner, season, doc = found[pid]
        source = (doc.body if doc else "") or project.summary
        hits.append(Hit(project, owner, season, tags.get(pid, []), snippet(source, words)))
    return hits


def tags_of(session: Session, ids: list[int]) -> dict[int, list[ProjectTag]]:
    out: dict[int, list[ProjectTag]] = {}
    if ids:
        query = select(ProjectTag).where(ProjectTag.project_id.in_(ids)).order_by(ProjectTag.slug)
        for tag in session.exec(query):
            out.setdefault(tag.project_id, []).append(tag)
    return out


def snippet(source: str, words: list[str], size: int = SNIPPET_CHARS) -> Markup:
    """A window of the text around the first match, escaped, with <mark> on matches.

    The text is untrusted (write-ups, run tags): every piece is escaped before
    it is joined with our own <mark> tags, so nothing in it can become markup.
    """
    source = " ".join(source.split())
    pattern = _match_pattern(words)
    first = pattern.search(source) if pattern else None
    start = max(0, first.start() - size // 3) if first else 0
    if start:
        space = source.find(" ", start)
        start = space + 1 if 0 <= space < first.start() else start
    window = source[start : start + size]
    out = [Markup("…")] if start else []
    pos = 0
    for m in pattern.finditer(window) if pattern else ():
        out += [
            escape(window[pos : m.start()]),
            Markup("<mark>%s</mark>") % window[m.start() : m.end()],
        ]
        pos = m.end()
    out.append(escape(window[pos:]))
    if start + size < len(source):
        out.append(Markup("…"))
    return Markup("").join(out)


def _match_pattern(words: list[str]) -> re.Pattern[str] | None:
    """Words as typed or with an ending (stemming finds "models" for "model")."""
    stems = sorted({w[:-1] if len(w) > 4 and w.endswith("s") else w for w in words}, key=len)
    if not stems:
        return None
    alternatives = "|".join(re.escape(s) for s in reversed(stems))
    return re.compile(rf"\b(?:{alternatives})\w*", re.IGNORECASE)


# The engines (one per process in production) whose index has been checked. Weak,
# so a disposed engine's id() reused by a new one (tests) is never taken for checked.
_filled_checked: weakref.WeakSet[object] = weakref.WeakSet()
_fill_lock = threading.Lock()


def _ensure_filled(session: Session) -> None:
    """A fallback: the first search in a process builds a missing index (e.g. right after 0018).

    At most once per engine, so once per process: `flask db upgrade` and
    `flask search reindex` are the real ways to build it, and a GET must not pay
    for an emptiness check (or a rebuild) on every request. The lock keeps two
    first searches arriving together from both rebuilding; a failed check is
    not recorded, so the next search tries again.
    """
    bind = session.get_bind()
    if bind in _filled_checked:
        return
    with _fill_lock:
        if bind in _filled_checked:
            return
        if index.fill_if_missing(session):
            session.commit()
        _filled_checked.add(bind)
