"""Render chart specs to SVG and PNG with vl-convert, offline and script-free.

vl-convert runs Vega in an embedded JavaScript runtime: no browser, no CDN.
Nothing is fetched: specs carry their data inline and `allowed_base_urls=[]`
refuses any URL a spec might name. Text stays as SVG <text> (the browser draws
it); PNGs are drawn with the Liberation Sans font vl-convert ships with.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

import vl_convert

from .spec import INTERACTIVE, VL_VERSION

SVG_NS = "{http://www.w3.org/2000/svg}"
# Every element Vega's SVG renderer writes for our marks; anything else is refused.
_DRAWING = ("svg", "g", "path", "rect", "line", "text", "tspan", "defs", "clipPath", "title",
            "desc", "linearGradient", "radialGradient", "stop", "circle", "ellipse")  # fmt: skip
ALLOWED_ELEMENTS = frozenset(SVG_NS + tag for tag in _DRAWING)
_FORBIDDEN_ATTRIBUTES = frozenset({"href", "src", "style"})
_TAG = re.compile(r'<(?:[^>"]|"[^"]*")*>')  # one start/end tag; quoted values may hold ">"
_ID_ATTR = re.compile(r'(\sid=")([^"]*)"')
_URL_REF = re.compile(r'(\s(?:clip-path|fill|stroke|mask|filter|marker-\w+)="url\(#)([^)"]*)\)')
_MARKUP_ASIDE = re.compile(r"<[?!]")  # <?xml …?>, <!-- -->, <!DOCTYPE, <![CDATA[
_IDS = re.compile(r'(?<=id=")[^"]*|(?<=url\(#)[^)]*')
_PATH_D = re.compile(r'(\sd=")([^"]*)"')
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class ChartRenderError(RuntimeError):
    """vl-convert could not render the spec, or its output failed the safety check."""


def static_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Return `spec` without params and interactive-only layers (data is shared, not copied).

    Zoom and hover do nothing in a picture, and the hover layer's hidden
    points and Voronoi cells would only make the SVG heavier.
    """
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "params":
            continue
        if key == "layer":
            value = [
                static_spec(layer)
                for layer in value
                if not str(layer.get("name", "")).startswith(INTERACTIVE)
            ]
        elif key == "spec" and isinstance(value, dict):
            value = static_spec(value)
        out[key] = value
    return out


def render_svg(spec: dict[str, Any]) -> str:
    """Render `spec` to a standalone SVG string, checked free of scripts and links.

    The spec's description becomes the SVG's <title>, its accessible name.
    Element ids get a prefix derived from the drawing, so several charts
    inlined in one page never share a clip-path id, and one spec always gives
    the same bytes (Vega numbers its ids with a per-process counter).
    Path coordinates are rounded to a tenth of a pixel (Vega writes three
    decimals), which nobody can see and makes line charts a fifth lighter.
    """
    try:
        svg = vl_convert.vegalite_to_svg(
            json.dumps(static_spec(spec)), vl_version=VL_VERSION, allowed_base_urls=[]
        )
    except ValueError as exc:
        raise ChartRenderError(str(exc)) from exc
    check_svg(svg)
    svg = _round_paths(svg)
    digest = hashlib.sha1(_IDS.sub("", svg).encode(), usedforsecurity=False)
    prefix = "c" + digest.hexdigest()[:10]
    svg = _rename_ids(svg, prefix=prefix)
    description = spec.get("description")
    if description:
        root_end = _TAG.match(svg)
        if root_end:  # always: the SVG starts with its root tag
            at = root_end.end()
            svg = f"{svg[:at]}<title>{escape(str(description))}</title>{svg[at:]}"
    return svg


def render_png(spec: dict[str, Any], scale: float = 1.0) -> bytes:
    """Render `spec` to PNG bytes; a `build_og_spec` spec at scale 1 is 1200x630."""
    if not 0 < scale <= 4:
        raise ValueError(f"scale must be in (0, 4], got {scale!r}")
    try:
        return vl_convert.vegalite_to_png(
            static_spec(spec), vl_version=VL_VERSION, scale=scale, allowed_base_urls=[]
        )
    except ValueError as exc:
        raise ChartRenderError(str(exc)) from exc


def check_svg(svg: str) -> None:
    """Raise ChartRenderError unless `svg` is well-formed and has no script, handler or link.

    Vega escapes text itself; this is the second lock: only drawing elements,
    no `on*` or `style` attributes, no href/src anywhere (our charts link
    nowhere, so a javascript: URL has no place to hide).
    """
    if _MARKUP_ASIDE.search(svg):
        # ElementTree drops these silently, but an HTML parser reading the SVG
        # inline ends "<?...>" at its first ">": a way out of the SVG.
        raise ChartRenderError("unexpected comment, processing instruction or DTD in SVG")
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as exc:
        raise ChartRenderError(f"renderer wrote malformed SVG: {exc}") from exc
    for element in root.iter():
        if element.tag not in ALLOWED_ELEMENTS:
            raise ChartRenderError(f"unexpected SVG element {element.tag!r}")
        for name in element.attrib:
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on") or local in _FORBIDDEN_ATTRIBUTES:
                raise ChartRenderError(f"unexpected SVG attribute {name!r}")


def _rename_ids(svg: str, *, prefix: str) -> str:
    """Rename every id (and its url(#id) references) to prefix-1, prefix-2, ...

    Works on tags only: in well-formed XML (check_svg parsed it) text cannot
    hold a "<", so a label that reads like an id is never touched.
    """
    names: dict[str, str] = {}

    def new_name(old: str) -> str:
        return names.setdefault(old, f"{prefix}-{len(names) + 1}")

    def tag(match: re.Match[str]) -> str:
        text = _ID_ATTR.sub(lambda m: f'{m[1]}{new_name(m[2])}"', match[0])
        return _URL_REF.sub(lambda m: f"{m[1]}{new_name(m[2])})", text)

    return _TAG.sub(tag, svg)


def _round_paths(svg: str) -> str:
    """Round every number in <path d="..."> to one decimal, dropping a trailing ".0".

    Works on tags only, like `_rename_ids`; arc flags (0/1) stay as they are.
    """

    def number(match: re.Match[str]) -> str:
        text = f"{round(float(match[0]), 1):.1f}".removesuffix(".0")
        return "0" if text == "-0" else text

    def tag(match: re.Match[str]) -> str:
        if not match[0].startswith("<path"):
            return match[0]
        return _PATH_D.sub(lambda m: f'{m[1]}{_NUMBER.sub(number, m[2])}"', match[0])

    return _TAG.sub(tag, svg)
