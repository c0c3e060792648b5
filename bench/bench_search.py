"""Benchmark: public search over many public projects.

Builds PROJECTS public projects (one learner each, a ~120-word write-up drawn
from a fixed vocabulary) with bulk core inserts, times `flask search reindex`'s
work (`index.reindex`), then the median of 20 searches for a few queries
through the service and through GET /search (render included). Usage:

    .venv/bin/python bench/bench_search.py                      # SQLite in a temp dir
    .venv/bin/python bench/bench_search.py postgresql+psycopg://postgres@127.0.0.1/bench

The PostgreSQL database must exist and may be wiped.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_mentor import reset, timed  # noqa: E402
from portfolio import create_app  # noqa: E402
from portfolio.discovery import engine as search_engine  # noqa: E402
from portfolio.discovery import index  # noqa: E402
from portfolio.discovery.query import parse  # noqa: E402
from portfolio.models import MemberStatus, Project, ProjectMember, Season, User  # noqa: E402

PROJECTS = 5_000
NOW = datetime(2027, 2, 15, 12, tzinfo=UTC)
COMMON = "model data training loss accuracy baseline features validation results".split()
RARE = "transformer attention forecasting churn sentiment graph diffusion anomaly".split()
QUERIES = ["model", "transformer attention", '"time series" forecasting', "diffusion -graph"]


def populate(conn) -> None:
    rng = random.Random(7)
    filler = [f"w{i}" for i in range(2000)]
    conn.execute(
        insert(User),
        [
            dict(handle=f"l{i}", display_name=f"Learner {i}", timezone="UTC", bio="",
                 email=f"l{i}@bench.example.com", password_hash="x", role="learner",
                 login_id=f"x{i}", created_at=NOW)
            for i in range(PROJECTS)
        ],
    )  # fmt: skip
    conn.execute(
        insert(Season),
        [dict(slug="s1", title="Spring 2027", kind="quarter", starts_on=NOW.date(),
              ends_on=(NOW + timedelta(days=89)).date(), plan=[], created_at=NOW)],
    )  # fmt: skip
    projects, members = [], []
    for p in range(1, PROJECTS + 1):
        words = rng.choices(filler, k=100) + rng.choices(COMMON, k=15) + rng.choices(RARE, k=3)
        if p % 10 == 0:
            words += ["time", "series"]
        rng.shuffle(words)
        projects.append(
            dict(id=p, season_id=1, owner_id=p, title=f"{rng.choice(RARE).title()} project {p}",
                 slug=f"p{p}", summary="A bench project", problem_md="", body_md=" ".join(words),
                 visibility="public", repo_url="", headline_metric="", headline_goal="max",
                 version=1, created_at=NOW, updated_at=NOW, last_activity_at=NOW)
        )  # fmt: skip
        members.append(dict(project_id=p, user_id=p, status=MemberStatus.accepted, created_at=NOW))
    conn.execute(insert(Project), projects)
    conn.execute(insert(ProjectMember), members)


def main() -> None:
    tmp = tempfile.mkdtemp()
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tmp}/bench.db"
    reset(url)
    app = create_app(
        {"DATABASE_URL": url, "INSTANCE_PATH": tmp, "SECRET_KEY": "b" * 40,
         "LOG_LEVEL": "WARNING", "TESTING": True}
    )  # fmt: skip
    engine = app.extensions["engine"]
    with engine.begin() as conn:
        populate(conn)
    with app.app_context(), Session(engine) as session:
        t = time.perf_counter()
        count = index.reindex(session)
        session.commit()
        print(f"{engine.dialect.name}: reindex of {count} projects {time.perf_counter() - t:.1f}s")
        if engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
            session.commit()
        client = app.test_client()
        for q in QUERIES:
            parsed = parse(q)
            total = search_engine.search(session, parsed).total
            svc = timed(lambda parsed=parsed: search_engine.search(session, parsed))
            page = timed(lambda q=q: client.get("/search", query_string={"q": q}))
            print(
                f"  {q!r}: {total} hits; search() {svc[0]:.1f} ms (max {svc[1]:.1f}); "
                f"GET /search {page[0]:.1f} ms (max {page[1]:.1f})"
            )


if __name__ == "__main__":
    main()
