"""The public project page: results, charts, OG tags, caching, visibility."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

from PIL import Image

from portfolio.models import Project, Visibility
from tests.conftest import csrf_token, login


def test_results_table_best_run_and_diff_only(client, published):
    _, project = published
    page = client.get(f"/u/maya/{project.slug}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "layers 2 → 4, lr 0.01 → 0.003: val/acc 0.81 → 0.93" in html
    assert 'class="best"' in html and "Best</span>" in html
    # Diff only: seed is the same everywhere, so it is hidden until asked for.
    assert '<th scope="col" class="hp">seed</th>' not in html
    full = client.get(f"/u/maya/{project.slug}?config=all").get_data(as_text=True)
    assert '<th scope="col" class="hp">seed</th>' in full
    # The hidden run is nowhere on the public page.
    assert "secret-experiment" not in html
    # The write-up is rendered: markdown, MathML, task list.
    assert "<strong>MLP</strong>" in html and "<math" in html and 'type="checkbox"' in html


def test_chart_svg_inline_spec_and_og_image(client, published):
    _, project = published
    html = client.get(f"/u/maya/{project.slug}").get_data(as_text=True)
    assert '<figure class="chart"' in html
    assert f'src="/u/maya/{project.slug}/charts/0.svg"' in html
    svg = client.get(f"/u/maya/{project.slug}/charts/0.svg")
    assert svg.mimetype == "image/svg+xml" and svg.get_data(as_text=True).lstrip().startswith(
        "<svg"
    )
    assert "Data table" in html
    assert 'property="og:image"' in html and 'rel="canonical"' in html
    spec = client.get(f"/u/maya/{project.slug}/charts/0.vl.json")
    assert spec.status_code == 200
    assert spec.get_json()["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert "secret-experiment" not in spec.get_data(as_text=True)
    og = client.get(f"/u/maya/{project.slug}/og.png")
    assert og.status_code == 200 and og.mimetype == "image/png"
    assert Image.open(io.BytesIO(og.data)).size == (1200, 630)


def test_anonymous_page_has_etag_and_304(client, session, published):
    _, project = published
    first = client.get(f"/u/maya/{project.slug}")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    again = client.get(f"/u/maya/{project.slug}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    project = session.get(Project, project.id)
    project.version += 1
    session.add(project)
    session.commit()
    changed = client.get(f"/u/maya/{project.slug}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_drafts_are_404_everywhere_to_strangers(app, client, session, published):
    maya, project = published
    project = session.get(Project, project.id)
    project.visibility = Visibility.draft
    session.add(project)
    session.commit()
    base = f"/u/maya/{project.slug}"
    for path in (base, base + "/charts/0.vl.json", base + "/charts/0.svg", base + "/og.png"):
        assert client.get(path).status_code == 404, path
    assert project.title not in client.get("/u/maya").get_data(as_text=True)
    assert project.slug not in client.get("/sitemap.xml").get_data(as_text=True)
    assert project.title not in client.get("/u/maya/feed.atom").get_data(as_text=True)
    member = app.test_client()
    login(member, maya)
    assert member.get(base).status_code == 200


def test_unlisted_is_reachable_but_not_listed(client, session, published):
    _, project = published
    project = session.get(Project, project.id)
    project.visibility = Visibility.unlisted
    session.add(project)
    session.commit()
    page = client.get(f"/u/maya/{project.slug}")
    assert page.status_code == 200
    assert '<meta name="robots" content="noindex">' in page.get_data(as_text=True)
    assert project.title not in client.get("/u/maya").get_data(as_text=True)
    assert project.slug not in client.get("/sitemap.xml").get_data(as_text=True)


def test_profile_feed_sitemap_robots(client, published):
    _, project = published
    profile = client.get("/u/maya").get_data(as_text=True)
    assert project.title in profile and "0.93" in profile
    feed = client.get("/u/maya/feed.atom")
    assert feed.mimetype == "application/atom+xml"
    root = ET.fromstring(feed.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert f"New project: {project.title}" in titles
    sitemap = ET.fromstring(client.get("/sitemap.xml").data)
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert any(loc.endswith(f"/u/maya/{project.slug}") for loc in locs)
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap:" in robots and "Disallow: /admin/" in robots
    assert client.get("/u/nobody-at-all").status_code == 404


def test_profile_cards_carry_a_thumbnail_chart_of_the_headline(client, published) -> None:
    """Each card draws the headline metric of the visible runs as a small inline SVG."""
    html = client.get("/u/maya").get_data(as_text=True)
    [thumb] = re.findall(r'<div class="thumb-chart">(<svg.*?</svg>)</div>', html, re.S)
    root = ET.fromstring(thumb)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert int(float(root.get("width"))) <= 280
    svg = "{http://www.w3.org/2000/svg}"
    line_groups = [g for g in root.iter(svg + "g") if "mark-line" in g.get("class", "")]
    assert sum(len(g.findall(svg + "path")) for g in line_groups) == 2  # hidden run left out
    title = root.findtext(svg + "title") or ""
    assert "val/acc" in title and "baseline" in title and "deeper" in title
    assert "secret-experiment" not in html


def test_untrusted_wandb_values_are_escaped(client, session, make_user, make_project, make_run):
    """Run names, config keys and metric names from W&B never reach the page as markup."""
    owner = make_user("eve")
    project = make_project(owner, title="Payloads")
    project.visibility = Visibility.public
    project.headline_metric = 'acc"><script>alert(1)</script>'
    session.add(project)
    session.commit()
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    make_run(
        project,
        name=payload,
        summary={project.headline_metric: 0.5, "<b onmouseover=alert(1)>m</b>": 1},
        config={"<svg onload=alert(1)>": "javascript:alert(1)", "lr": 1},
        series={project.headline_metric: [(0, 0.1), (1, 0.5)]},
    )
    make_run(
        project,
        name="second",
        summary={project.headline_metric: 0.4},
        config={"<svg onload=alert(1)>": 2, "lr": 2},
        series={project.headline_metric: [(0, 0.2), (1, 0.4)]},
    )
    html = client.get(f"/u/eve/{project.slug}").get_data(as_text=True)
    html += client.get("/u/eve").get_data(as_text=True)  # the card's thumbnail chart too
    assert 'class="thumb-chart"' in html
    for raw in (
        "<script>alert",
        "<img src=x",
        "<svg onload",
        "<b onmouseover",
        'href="javascript:',
    ):
        assert raw not in html, raw
    assert "&lt;script&gt;" in html
    spec = client.get(f"/u/eve/{project.slug}/charts/0.vl.json").get_json()
    assert all(set(v) <= {"xs", "ys", "ss", "m", "run", "metric"} for v in _data_rows(spec)), (
        "untrusted names must never become field names"
    )


def _data_rows(spec):
    found = []

    def walk(node):
        if isinstance(node, dict):
            values = node.get("values")
            if isinstance(values, list) and values and isinstance(values[0], dict):
                found.extend(values)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    return found


def test_write_up_edit_and_oversize(client, session, published):
    maya, project = published
    login(client, maya)
    url = f"/u/maya/{project.slug}/write-up"
    ok = client.post(
        url,
        data={
            "body_md": "# Results\n\n<script>alert(1)</script> and **bold**",
            "headline_metric": "val/acc",
            "headline_goal": "max",
            "csrf_token": csrf_token(client, url),
        },
    )
    assert ok.status_code == 302
    html = client.get(f"/u/maya/{project.slug}").get_data(as_text=True)
    assert "<strong>bold</strong>" in html and "<script>alert(1)</script>" not in html
    too_long = client.post(
        url,
        data={
            "body_md": "x" * 100_001,
            "headline_metric": "val/acc",
            "headline_goal": "max",
            "csrf_token": csrf_token(client, url),
        },
    )
    assert too_long.status_code == 422
    assert "Field cannot be longer than 100000" in too_long.get_data(as_text=True)
    bad_goal = client.post(
        url,
        data={"body_md": "", "headline_goal": "sideways", "csrf_token": csrf_token(client, url)},
    )
    assert bad_goal.status_code == 422
    session.expire_all()
    assert "bold" in session.get(Project, project.id).body_md


def test_charts_only_from_synced_metrics(client, session, published):
    maya, project = published
    login(client, maya)
    url = f"/u/maya/{project.slug}/charts"
    token = csrf_token(client, f"/u/maya/{project.slug}/write-up")
    bad = client.post(url, data={"metrics": ["nope"], "x_axis": "_step", "csrf_token": token})
    assert bad.status_code == 422
    assert "synced metrics" in bad.get_data(as_text=True)
    bad_smooth = client.post(
        url, data={"metrics": ["val/acc"], "smoothing": "5", "csrf_token": token}
    )
    assert bad_smooth.status_code == 422
    ok = client.post(
        url,
        data={
            "metrics": ["train/loss"],
            "x_axis": "_step",
            "smoothing": "0.6",
            "log_y": "y",
            "csrf_token": token,
        },
    )
    assert ok.status_code == 302
    session.expire_all()
    assert session.get(Project, project.id).charts[0]["metrics"] == ["train/loss"]
