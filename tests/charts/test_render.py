"""SVG and PNG rendering: escaped, script-free, deterministic, offline."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from portfolio.charts import (
    ChartOptions,
    ChartRenderError,
    ChartSeries,
    build_og_spec,
    build_spec,
    check_svg,
    clean_label,
    render_png,
    render_svg,
    static_spec,
)

from .conftest import MARK, RUN_PAYLOADS

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def texts(svg: str) -> str:
    """All text and attribute values of the SVG, unescaped, as one string."""
    root = ET.fromstring(svg)
    parts = []
    for el in root.iter():
        parts.extend([el.text or "", *el.attrib.values()])
    return "\n".join(parts)


@pytest.mark.parametrize("smoothing", [0.0, 0.8])
def test_hostile_names_are_escaped_in_svg(
    hostile_series: list[ChartSeries], smoothing: float
) -> None:
    """Script, markup and handler payloads in names reach the SVG only as escaped text."""
    svg = render_svg(
        build_spec(f"<b>{MARK}</b>", hostile_series, ChartOptions(smoothing=smoothing))
    )
    root = ET.fromstring(svg)  # well-formed despite NULs, ESC and lone surrogates
    for el in root.iter():
        assert el.tag.removeprefix(SVG) not in {"script", "foreignObject", "a", "image", "use"}
        for name in el.attrib:
            assert not name.lower().startswith("on")
            assert not name.endswith("href")
    for raw in ["<script", "<svg onload", "<img", "<foreignObject", "<!--", "]]>"]:
        assert raw not in svg.replace('<svg xmlns="http://www.w3.org/2000/svg"', "", 1)
    assert "&lt;script&gt;" in svg
    readable = texts(svg)
    for payload in RUN_PAYLOADS[:6]:  # the short ones show whole in the legend's aria-label
        assert clean_label(payload) in readable
    assert "\x00" not in svg and "\x1b" not in svg and "\u202e" not in svg


def test_svg_has_title_and_no_style_or_links(two_runs: list[ChartSeries]) -> None:
    """The description is the SVG's accessible name; no style or href attributes."""
    spec = build_spec("Accuracy & loss", two_runs, ChartOptions())
    svg = render_svg(spec)
    root = ET.fromstring(svg)
    assert root[0].tag == SVG + "title"
    assert root[0].text == spec["description"]
    assert "style=" not in svg and "href" not in svg and "javascript:" not in svg


def test_svg_is_deterministic_with_unique_ids(two_runs: list[ChartSeries]) -> None:
    """Same spec, same bytes; different charts never share an element id."""
    a = build_spec("a", two_runs, ChartOptions(metrics=["val/acc"]))
    b = build_spec("b", two_runs, ChartOptions(metrics=["train/loss"], smoothing=0.5))
    svg_a, svg_b = render_svg(a), render_svg(b)
    assert render_svg(a) == svg_a
    ids_a = {el.get("id") for el in ET.fromstring(svg_a).iter() if el.get("id")}
    ids_b = {el.get("id") for el in ET.fromstring(svg_b).iter() if el.get("id")}
    assert ids_a and ids_b and not ids_a & ids_b
    for ref in ids_a:
        assert f"url(#{ref})" in svg_a


def test_static_render_drops_interactive_parts(two_runs: list[ChartSeries]) -> None:
    """No params and no hover layer (hidden points, Voronoi cells) in the picture."""
    spec = build_spec("t", two_runs, ChartOptions(metrics=["val/acc", "train/loss"]))
    static = static_spec(spec)
    assert "params" not in str(static)
    assert "interactive_" not in str(static)
    assert static["data"] is spec["data"]  # not copied
    svg = render_svg(spec)
    assert "voronoi" not in svg and "hover" not in svg


def test_empty_chart_renders() -> None:
    """A chart with no points renders empty axes."""
    svg = render_svg(build_spec("Nothing yet", [], ChartOptions(metrics=["val/acc"])))
    check_svg(svg)


def test_log_scale_chart_renders(two_runs: list[ChartSeries]) -> None:
    """A log-scale chart with a non-positive value renders."""
    s = ChartSeries(run="r", metric="loss", xs=[0, 1, 2], ys=[1.0, 0.0, 0.1])
    check_svg(render_svg(build_spec("t", [*two_runs, s], ChartOptions(log_y=True))))


def test_og_png_is_1200x630(two_runs: list[ChartSeries]) -> None:
    """The Open Graph PNG has the PNG signature and the 1200x630 size; scale 2 doubles it."""
    spec = build_og_spec("Accuracy", two_runs, ChartOptions(metrics=["val/acc"], smoothing=0.6))
    assert png_size(render_png(spec)) == (1200, 630)
    assert png_size(render_png(spec, scale=2)) == (2400, 1260)


def test_png_refuses_silly_scale(two_runs: list[ChartSeries]) -> None:
    """Scale is bounded so a request cannot ask for a giant image."""
    with pytest.raises(ValueError):
        render_png(build_og_spec("t", two_runs, ChartOptions()), scale=50)


def test_remote_data_is_refused() -> None:
    """A spec that names a URL fails instead of fetching it."""
    spec = {"data": {"url": "http://127.0.0.1:9/x.json"}, "mark": "point"}
    with pytest.raises(ChartRenderError, match="not allowed"):
        render_svg(spec)


@pytest.mark.parametrize(
    "svg",
    [
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><g onclick="alert(1)"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
        '<a x:href="javascript:alert(1)"><text>x</text></a></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><path href="javascript:alert(1)"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(http://x)"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><set attributeName="href" to="x"/></svg>',
        "<svg><text>unclosed</svg>",
        # Dropped by ElementTree, but "<?x >" ends at its first ">" for an HTML parser.
        '<svg xmlns="http://www.w3.org/2000/svg"><?x ><img src=x onerror=alert(1)>?></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><!-- --><text>x</text></svg>',
        '<!DOCTYPE svg><svg xmlns="http://www.w3.org/2000/svg"/>',
    ],
)
def test_check_svg_refuses_unsafe_markup(svg: str) -> None:
    """The output check rejects scripts, handlers, links, styles and broken XML."""
    with pytest.raises(ChartRenderError):
        check_svg(svg)


OFFLINE_SCRIPT = textwrap.dedent(
    """
    import socket
    from portfolio.charts import ChartOptions, ChartSeries, build_og_spec, build_spec
    from portfolio.charts import render_png, render_svg
    try:  # prove the sandbox: no network at all
        socket.create_connection(("1.1.1.1", 443), timeout=2)
        raise SystemExit("network reachable: test is not isolated")
    except OSError:
        pass
    s = [ChartSeries(run="r", metric="m", xs=[0, 1, 2], ys=[1.0, 0.5, 0.25])]
    svg = render_svg(build_spec("Offline", s, ChartOptions(smoothing=0.5)))
    png = render_png(build_og_spec("Offline", s, ChartOptions()))
    assert "<text" in svg and png[:4] == b"\\x89PNG"
    print("ok")
    """
)


def test_rendering_works_without_network() -> None:
    """In a fresh network namespace (no interfaces up), SVG and PNG still render."""
    unshare = shutil.which("unshare")
    if not unshare or subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode:
        pytest.skip("cannot create a network namespace here")
    result = subprocess.run(
        [unshare, "-rn", sys.executable, "-c", OFFLINE_SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
