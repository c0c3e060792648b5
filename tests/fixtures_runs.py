"""Fixtures for projects with stored run snapshots (as a sync leaves them)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portfolio.models import MetricSeries, RunLink, RunSnapshot, SyncState, Visibility


@pytest.fixture()
def make_run(session):
    """Store a run link with a current snapshot and metric series, as a sync would."""

    def factory(
        project,
        *,
        name: str,
        summary: dict,
        config: dict,
        series: dict[str, list[tuple[float, float | None]]],
        hidden: bool = False,
        started: datetime | None = None,
        label: str = "",
    ) -> RunLink:
        link = RunLink(
            project_id=project.id,
            ref=f"ent/proj/{name[:20].replace('/', '_')}-{len(series)}-{id(summary)}",
            label=label,
            hidden=hidden,
            sync_state=SyncState.synced,
        )
        session.add(link)
        session.flush()
        snap = RunSnapshot(
            run_link_id=link.id,
            run_id=f"r{link.id}",
            name=name,
            state="finished",
            url=f"https://wandb.ai/ent/proj/runs/r{link.id}",
            started_at=started or datetime(2027, 1, 1, tzinfo=UTC),
            summary=summary,
            config=config,
            tags=["portfolio"],
        )
        session.add(snap)
        session.flush()
        for key, points in series.items():
            session.add(
                MetricSeries(
                    snapshot_id=snap.id,
                    key=key,
                    points=[list(p) for p in points],
                    original_count=len(points),
                )
            )
        link.current_snapshot_id = snap.id
        session.add(link)
        project.version += 1
        session.add(project)
        session.commit()
        return link

    return factory


@pytest.fixture()
def published(session, make_user, make_project, make_run):
    """A public project with two runs (one better) and a hidden third."""
    maya = make_user("maya")
    project = make_project(maya, title="Digit classifier")
    project.visibility = Visibility.public
    project.headline_metric = "val/acc"
    project.body_md = "## Approach\n\nA small **MLP**.\n\n$$a^2+b^2$$\n\n- [x] baseline"
    session.add(project)
    session.commit()
    curve = [(s, 0.5 + s / 200) for s in range(0, 100)]
    make_run(
        project,
        name="baseline",
        summary={"val/acc": 0.81, "train/loss": 0.5},
        config={"lr": 0.01, "layers": 2, "seed": 0},
        series={"val/acc": curve, "train/loss": [(s, 1 / (s + 1)) for s in range(100)]},
        started=datetime(2027, 1, 2, tzinfo=UTC),
    )
    make_run(
        project,
        name="deeper",
        summary={"val/acc": 0.93, "train/loss": 0.2},
        config={"lr": 0.003, "layers": 4, "seed": 0},
        series={"val/acc": [(s, 0.6 + s / 300) for s in range(100)]},
        started=datetime(2027, 1, 5, tzinfo=UTC),
    )
    make_run(
        project,
        name="secret-experiment",
        summary={"val/acc": 0.99},
        config={"lr": 1.0},
        series={"val/acc": [(0, 0.99)]},
        hidden=True,
    )
    session.refresh(project)
    return maya, project
