"""Static files, the chart bundle and cached public pages go out gzipped, compressed once."""

from __future__ import annotations

import gzip
from pathlib import Path

from flask import url_for

from portfolio.charts import bundle_filename

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def test_static_file_is_gzipped_and_immutable_at_its_versioned_url(app, client):
    """A versioned static URL is immutable for a year; gzip only for clients that ask."""
    with app.test_request_context():
        url = url_for("static", filename="css/site.css")
    assert "?v=" in url
    plain = client.get(url)
    packed = client.get(url, headers=GZIP)
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2
    for response in (plain, packed):
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "Accept-Encoding" in response.headers["Vary"]
    assert plain.headers["ETag"] != packed.headers["ETag"]
    again = client.get(url, headers={**GZIP, "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304


def test_unversioned_or_stale_static_url_revalidates(client):
    """Only the URL naming the file's current hash may be kept for good."""
    for url in ("/static/css/site.css", "/static/css/site.css?v=0000"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"


def test_static_paths_outside_the_folder_are_404(client):
    """safe_join refuses a way out of the static folder."""
    assert client.get("/static/../config.py").status_code == 404
    assert client.get("/static/%2e%2e/config.py").status_code == 404
    assert client.get("/static/css/missing.css").status_code == 404


def test_bundle_is_served_gzipped_and_immutable(app, client):
    """The vega-embed bundle is written with a .gz beside it and sent as such."""
    url = f"/assets/{bundle_filename()}"
    packed = client.get(url, headers=GZIP)
    packed.get_data()
    packed.close()  # send_file's stream: closed once read
    assert packed.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "immutable" in packed.headers["Cache-Control"]
    assert "max-age=31536000" in packed.headers["Cache-Control"]
    body = gzip.decompress(packed.data)
    assert b"vegaEmbed" in body
    assert len(packed.data) < 400_000
    plain = client.get(url)
    plain.get_data()
    plain.close()
    assert plain.data == body and "Content-Encoding" not in plain.headers
    assert (Path(app.instance_path) / "assets" / f"{bundle_filename()}.gz").exists()
    assert client.get("/assets/vega-embed-other.js").status_code == 404


def test_cached_public_page_and_chart_are_gzipped(client, published):
    """Cold and warm anonymous answers carry the gzip variant; a -gz ETag revalidates."""
    _, project = published
    base = f"/u/maya/{project.slug}"
    for _ in range(2):  # cold (build) then warm (cache hit)
        page = client.get(base, headers=GZIP)
        plain = client.get(base)
        assert page.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(page.data) == plain.data
        assert page.headers["ETag"] == plain.headers["ETag"][:-1] + '-gz"'
        chart = client.get(base + "/charts/0.svg", headers=GZIP)
        assert chart.status_code == 200 and chart.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(chart.data).startswith(b"<svg")
    again = client.get(base, headers={**GZIP, "If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304
