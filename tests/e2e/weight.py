"""Measure what a page puts on the wire in Chromium before the visitor does anything.

Shared by the e2e weight test and bench/bench_weight.py, so the test asserts
the very figure the benchmark reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlmodel import Session, select

from portfolio.models import Project, RunLink, User, Visibility

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
