"""Which chart a project shows by default, and which one its thumbnail draws."""

from __future__ import annotations

from portfolio.models import Visibility
from portfolio.public import service

STEPS = range(0, 50)


def _project(session, make_user, make_project, *, headline: str = ""):
    user = make_user("lena")
    project = make_project(user, title="Chart choice")
    project.visibility = Visibility.public
    project.headline_metric = headline
    session.add(project)
    session.commit()
    return user, project


def test_summary_only_headline_with_default_chart(
    client, session, make_user, make_project, make_run
):
    """best_val_acc (summary only) is the headline; the default chart is the loss, not epoch."""
    _, project = _project(session, make_user, make_project, headline="best_val_acc")
    make_run(
        project,
        name="run-a",
        summary={"best_val_acc": 0.999996, "train/loss": 0.3},
        config={},
        series={
            "_runtime": [(s, s * 2.0) for s in STEPS],
            "epoch": [(s, s // 10) for s in STEPS],
            "train/loss": [(s, 1 / (s + 1)) for s in STEPS],
        },
    )
    make_run(
        project,
        name="run-b",
        summary={"best_val_acc": 1.0, "train/loss": 0.25},
        config={},
        series={"train/loss": [(s, 0.9 / (s + 1)) for s in STEPS]},
    )
    res = service.results(session, project)
    assert [f.title for f in res.figures] == ["train/loss"]
    assert res.comparison.headline == "best_val_acc"
    page = client.get(f"/u/lena/{project.slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Two headline values that agree to 4 digits are printed with the digits that differ.
    assert "0.999996" in html and ">1<" in html
    narrow = client.get(f"/u/lena/{project.slug}/charts/0.narrow.svg")
    assert narrow.status_code == 200 and narrow.mimetype == "image/svg+xml"
    assert 'media="(max-width: 40rem)"' in html and "charts/0.narrow.svg" in html


def test_thumbnail_skips_a_chart_whose_runs_are_hidden(session, make_user, make_project, make_run):
    """A chart made for a now-hidden run is passed over; the next drawable one is used."""
    _, project = _project(session, make_user, make_project)
    hidden = make_run(
        project,
        name="hidden",
        summary={},
        config={},
        series={"secret/metric": [(s, s / 50) for s in STEPS]},
        hidden=True,
    )
    make_run(
        project,
        name="shown",
        summary={},
        config={},
        series={"val/acc": [(s, 0.5 + s / 200) for s in STEPS]},
    )
    project.charts = [
        {"metrics": ["secret/metric"], "runs": [hidden.id]},
        {"metrics": ["secret/metric"]},
        {"metrics": ["val/acc"]},
    ]
    session.add(project)
    session.commit()
    runs = service.visible_runs(session, project.id)
    svg = service.thumbnail_svg(session, project, runs)
    assert svg is not None and "val/acc" in svg and "secret" not in svg


def test_no_thumbnail_when_visible_runs_have_nothing_to_draw(
    session, make_user, make_project, make_run
):
    """Only counters and NaNs among the visible runs: no thumbnail, no empty axes."""
    _, project = _project(session, make_user, make_project)
    make_run(
        project,
        name="counters",
        summary={},
        config={},
        series={"epoch": [(s, s) for s in STEPS], "val/acc": [(s, None) for s in STEPS]},
    )
    make_run(
        project,
        name="hidden",
        summary={},
        config={},
        series={"val/acc": [(s, 0.5) for s in STEPS]},
        hidden=True,
    )
    runs = service.visible_runs(session, project.id)
    assert service.thumbnail_svg(session, project, runs) is None
    assert service.results(session, project).figures == []
