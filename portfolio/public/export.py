"""Static export of a learner's public portfolio, for GitHub Pages or file://.

Pages are rendered by the app itself, as an anonymous visitor sees them, then
their site-relative links are rewritten: pages of the export become relative
paths ending in index.html (so they work from disk), everything else points
at the live site. Scripts are left out: charts are already static SVG, and a
chart the live page loads only when scrolled near is exported as the plain
<picture> of its <noscript> copy (with no script, nothing would load it).
Every page carries the app's Content-Security-Policy as a <meta> tag, first
in <head>, so a remote image in a write-up (a tracking pixel) does not load
from a learner's exported site either.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from flask import Flask
from markupsafe import escape

from ..auth import service as accounts
from ..auth.profile import read_avatar
from ..db import session_scope
from ..models import User
from ..projects.images import list_images, read_image
from ..security import META_CSP
from ..storage import StorageError
from .service import public_projects

_LINK = re.compile(r'(href|src|srcset)="(/[^"]*)"')  # our srcset holds one URL
_QUERY_LINK = re.compile(r'href="(\?[^"]*)"')
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)
_LAZY_CHART = re.compile(
    r'<picture class="chart-lazy">.*?</picture><noscript>(.*?)</noscript>', re.S
)
_HEAD = re.compile(r"<head\b[^>]*>", re.I)
# Tag pages are not exported: a project's tag links (rel="tag") become plain text.
_TAG_LINK = re.compile(r'<a rel="tag" href="/tags/[^"]*">(.*?)</a>', re.S)
_CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{escape(META_CSP)}">'


class ExportError(Exception):
    pass


def _rewriter(handle: str, slugs: set[str], base_url: str, depth: int):
    up = "../" * depth
    prefix = f"/u/{handle}"

    def rewrite(match: re.Match[str]) -> str:
        attr, path = match.groups()
        before_fragment, hash_, fragment = path.partition("#")
        clean = before_fragment.split("?", 1)[0]
        fragment = hash_ + fragment
        if clean.startswith("/static/") or clean == "/assets/code.css":
            return f'{attr}="{up}{clean.lstrip("/")}"'
        if clean in (prefix, prefix + "/"):
            return f'{attr}="{up}index.html{fragment}"'
        if clean.startswith(f"/avatars/{handle}/") and clean.count("/") == 3:
            return f'{attr}="{up}avatar/{clean.rsplit("/", 1)[1]}"'
        if clean.startswith(prefix + "/"):
            parts = clean[len(prefix) + 1 :].split("/")
            if parts[0] in slugs and len(parts) == 1:
                return f'{attr}="{up}{parts[0]}/index.html{fragment}"'
            if parts[0] in slugs and parts[1:] == ["recap.png"]:  # a published season recap
                return f'{attr}="{up}{parts[0]}/recap.png"'
            if parts[0] in slugs and len(parts) == 3 and parts[1] in ("images", "charts"):
                return f'{attr}="{up}{parts[0]}/{parts[1]}/{parts[2]}"'
        return f'{attr}="{base_url}{path}"'

    return rewrite


def _write_page(html: str, target: Path, rewrite, live_url: str) -> None:
    html = _TAG_LINK.sub(r"<span>\1</span>", _LAZY_CHART.sub(r"\1", _SCRIPT.sub("", html)))
    # First in <head>: a policy applies only to what comes after it in the document.
    html, found = _HEAD.subn(lambda m: m.group(0) + _CSP_META, html, count=1)
    if not found:
        raise ExportError(f"{live_url} has no <head> to carry its Content-Security-Policy")
    # Links that only change the query (e.g. "show all hyperparameters") go to the live page.
    html = _QUERY_LINK.sub(lambda m: f'href="{live_url}{m.group(1)}"', html)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_LINK.sub(rewrite, html), encoding="utf-8")


def _figures(session, project_id: int) -> list[tuple[str, bytes]]:
    """Read a project's figures from the storage backend: (filename, bytes) pairs."""
    try:
        return [(i.filename, read_image(session, i).data) for i in list_images(session, project_id)]
    except StorageError as err:
        raise ExportError(f"Could not read an uploaded figure: {err.message}") from err


def _avatar(session, user: User) -> tuple[str, bytes] | None:
    """The profile photo, if any: (file name, bytes)."""
    if not user.avatar:
        return None
    try:
        stored = read_avatar(session, user, user.avatar)
    except StorageError as err:
        raise ExportError(f"Could not read the profile photo: {err.message}") from err
    return (user.avatar, stored.data) if stored is not None else None


def export_site(app: Flask, out_dir: Path, handle: str) -> list[Path]:
    """Write the profile, each public project, their figures and the CSS; return the pages."""
    with app.app_context(), session_scope() as session:
        user = accounts.get_user_by_handle(session, handle)
        if user is None:
            raise ExportError(f"There is no user @{handle}.")
        found = public_projects(session, user)
        projects = [(p.slug, p.id) for p, _ in found]
        image_files = {p.slug: _figures(session, p.id) for p, _ in found}
        owners = {p.slug: session.get(User, p.owner_id).handle for p, _ in found}
        avatar = _avatar(session, user)
    slugs = {slug for slug, _ in projects}
    base_url = app.config["BASE_URL"]
    out_dir.mkdir(parents=True, exist_ok=True)
    client = app.test_client()
    written: list[Path] = []

    def fetch(path: str) -> str:
        response = client.get(path)
        if response.status_code != 200:
            raise ExportError(f"{path} answered {response.status_code}")
        return response.get_data(as_text=True)

    profile = out_dir / "index.html"
    _write_page(
        fetch(f"/u/{handle}"),
        profile,
        _rewriter(handle, slugs, base_url, 0),
        f"{base_url}/u/{handle}",
    )
    written.append(profile)
    if avatar is not None:
        (out_dir / "avatar").mkdir(exist_ok=True)
        (out_dir / "avatar" / avatar[0]).write_bytes(avatar[1])
    for slug, _ in projects:
        page = out_dir / slug / "index.html"
        # A team project lives under its owner's handle; export it as this learner's.
        html = fetch(f"/u/{owners[slug]}/{slug}").replace(f"/u/{owners[slug]}/", f"/u/{handle}/")
        live = f"{base_url}/u/{owners[slug]}/{slug}"
        charts = re.findall(
            rf'src(?:set)?="/u/{handle}/{slug}/charts/(\d+(?:\.narrow)?\.svg)"', html
        )
        for chart in sorted(set(charts)):
            (out_dir / slug / "charts").mkdir(parents=True, exist_ok=True)
            svg = fetch(f"/u/{owners[slug]}/{slug}/charts/{chart}")
            (out_dir / slug / "charts" / chart).write_text(svg, encoding="utf-8")
        if f'"/u/{handle}/{slug}/recap.png"' in html:  # the published recap's image
            recap = client.get(f"/u/{owners[slug]}/{slug}/recap.png")
            if recap.status_code != 200:
                raise ExportError(f"{live}/recap.png answered {recap.status_code}")
            (out_dir / slug).mkdir(parents=True, exist_ok=True)
            (out_dir / slug / "recap.png").write_bytes(recap.data)
        _write_page(html, page, _rewriter(handle, slugs, base_url, 1), live)
        written.append(page)
        for filename, data in image_files[slug]:
            (out_dir / slug / "images").mkdir(parents=True, exist_ok=True)
            (out_dir / slug / "images" / filename).write_bytes(data)
    static = Path(app.static_folder or "")
    shutil.copytree(static / "css", out_dir / "static" / "css", dirs_exist_ok=True)
    shutil.copyfile(static / "favicon.svg", out_dir / "static" / "favicon.svg")
    (out_dir / "assets").mkdir(exist_ok=True)
    (out_dir / "assets" / "code.css").write_text(fetch("/assets/code.css"), encoding="utf-8")
    return written
