"""Turn what a visitor typed into a safe query for either engine.

Nothing typed reaches an engine's query syntax as is: the text is split into
words and quoted phrases ("-word" excludes), and each engine's query is built
from those words (FTS5 string literals; PostgreSQL's websearch_to_tsquery,
which never raises on any input). So `"`, `*`, `NEAR(` or `OR` are words or
nothing, never syntax errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import DomainError

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
MAX_PAGE = 500
_TERM = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a phrase
    negated: bool = False


@dataclass(frozen=True)
class Query:
    text: str  # the cleaned text, for the search box
    terms: tuple[Term, ...]

    @property
    def positive_words(self) -> list[str]:
        return [w for t in self.terms if not t.negated for w in t.words]


def parse(raw: str | None) -> Query | None:
    """Words and phrases of a query; None for an empty one. DomainError when unusable."""
    text = " ".join((raw or "").split())
    if not text:
        return None
    if len(text) > MAX_QUERY_CHARS:
        raise DomainError(f"Please shorten your search to {MAX_QUERY_CHARS} characters or fewer.")
    terms = []
    for m in _TERM.finditer(text):
        negated = bool(m.group(1) or m.group(3))
        words = tuple(w.lower() for w in _WORD.findall(m.group(2) or m.group(4) or ""))
        if words:
            terms.append(Term(words, negated))
    if not any(not t.negated for t in terms):
        raise DomainError("Type at least one word to search for (letters or digits).")
    return Query(text, tuple(terms[:MAX_TERMS]))


def fts5_match(query: Query) -> str:
    """An FTS5 MATCH expression: each word a quoted string, so no operator is ever read."""
    pos = [_phrase(t) for t in query.terms if not t.negated]
    neg = [_phrase(t) for t in query.terms if t.negated]
    expr = " AND ".join(pos)
    return f"({expr})" + "".join(f" NOT {n}" for n in neg)


def _phrase(term: Term) -> str:
    return '"' + " ".join(term.words) + '"'


def websearch_text(query: Query) -> str:
    """The text for websearch_to_tsquery, rebuilt from the words alone."""
    parts = []
    for t in query.terms:
        body = " ".join(t.words)
        parts.append(("-" if t.negated else "") + (f'"{body}"' if len(t.words) > 1 else body))
    return " ".join(parts)


def parse_page(raw: str | None) -> int:
    """A page number from the URL, 1 when absent; DomainError for anything else."""
    if raw is None or raw == "":
        return 1
    if len(raw) > 4 or not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise DomainError(f"The page must be a whole number from 1 to {MAX_PAGE}.")
    return int(raw)
