"""Measure what a page puts on the wire in Chromium before the visitor does anything.

Shared by the e2e weight test and bench/bench_weight.py, so the test asserts
the very figure the benchmark reports; `heavy_project` is also the project of
bench/bench_page.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlmodel import Session, select

from portfolio.auth import service as accounts
from portfolio.models import (
    MetricSeries,
    Project,
    RunLink,
    RunSnapshot,
    SyncState,
    User,
    Visibility,
)
from portfolio.projects import service as projects
from portfolio.seasons import service as seasons

DEMO_LEARNER = "maya-okafor"
BUDGET = 150_000  # bytes on the wire, headers included


@dataclass
class Weight:
    """Every response of one page load: (url, bytes on the wire), and foreign URLs."""

    requests: list[tuple[str, int]] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(size for _, size in self.requests)


def page_weight(browser, url: str, *, width: int, height: int) -> Weight:
    """Load `url` at the given viewport with JS on, no scrolling; sum what was transferred.

    Bytes are the response headers plus the encoded body as received
    (Playwright's `Request.sizes()`), so a gzipped response counts gzipped.
    """
    origin = urlsplit(url)[:2]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    weight = Weight()
    finished = []
    page.on("requestfinished", lambda r: finished.append(r))
    page.on(
        "request",
        lambda r: None if urlsplit(r.url)[:2] == origin else weight.foreign.append(r.url),
    )
    try:
        page.goto(url, wait_until="networkidle", timeout=180_000)
        for request in finished:
            sizes = request.sizes()
            weight.requests.append(
                (request.url, sizes["responseBodySize"] + sizes["responseHeadersSize"])
            )
    finally:
        context.close()
    return weight


def demo_project_path(app) -> str:
    """The URL path of the demo learner's public project with the most linked runs."""
    with app.app_context(), Session(app.extensions["engine"]) as session:
        maya = session.exec(select(User).where(User.handle == DEMO_LEARNER)).one()
        projects = session.exec(
            select(Project).where(
                Project.owner_id == maya.id, Project.visibility == Visibility.public
            )
        ).all()

        def runs(p: Project) -> int:
            return len(session.exec(select(RunLink).where(RunLink.project_id == p.id)).all())

        best = max(projects, key=runs)
        return f"/u/{DEMO_LEARNER}/{best.slug}"


def heavy_project(app, runs: int = 20, handle: str = "bench") -> str:
    """Seed @handle's public project: `runs` runs × 1,000 points, 5 charts; return its path.

    The heaviest page the benchmarks know: every chart draws every run. bench_page.py
    seeds one per handle to spread its requests over many project URLs.
    """
    now = datetime.now(UTC)
    with app.app_context(), Session(app.extensions["engine"]) as s:
        user = accounts.register(
            s,
            email=f"{handle}@example.com",
            handle=handle,
            display_name="B",
            password="correct horse battery staple",
        )
        season = seasons.ensure_current_and_next(s, now.date())[0]
        p = projects.create(
            s,
            owner=user,
            season=season,
            fields=projects.ProjectFields("Bench project", "twenty runs"),
            team_handles=[],
            allow_second=False,
            now=now,
        )
        p.visibility, p.headline_metric = Visibility.public, "val/acc"
        metrics = ["val/acc", "val/loss", "train/loss", "lr", "grad_norm"]
        p.charts = [
            {
                "metrics": [m],
                "x": "_step",
                "smoothing": 0.6 if i % 2 else 0.0,
                "log_y": False,
                "runs": [],
            }
            for i, m in enumerate(metrics)
        ]
        for r in range(runs):
            link = RunLink(project_id=p.id, ref=f"e/p/run{r}", sync_state=SyncState.synced)
            s.add(link)
            s.flush()
            snap = RunSnapshot(
                run_link_id=link.id,
                run_id=f"run{r}",
                name=f"run-{r}",
                state="finished",
                url=f"https://wandb.ai/e/p/runs/run{r}",
                summary={m: 0.5 + r / 100 for m in metrics},
                config={"lr": 10 ** -(r % 4), "layers": r % 3, "seed": 0},
            )
            s.add(snap)
            s.flush()
            for k, m in enumerate(metrics):
                pts = [
                    [x, 0.5 + 0.3 * math.tanh(x / 300) + 0.02 * math.sin(x / 7 + r + k)]
                    for x in range(1000)
                ]
                s.add(MetricSeries(snapshot_id=snap.id, key=m, points=pts, original_count=5000))
            link.current_snapshot_id = snap.id
        s.commit()
    return f"/u/{handle}/bench-project"
