"""Walk the site as one role with the Flask test client, and check pages with the Nu HTML checker.

The walk follows every same-site link and every GET form (submitted as it
stands) from the start pages, keeps the HTML pages, Atom feeds and other
answers it meets, and never sends anything but GET: a walk changes nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import lxml.etree
import lxml.html
from flask.testing import FlaskClient

REPO = Path(__file__).resolve().parents[2]
VNU_JAR = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# Not pages: static files, pictures, machine-readable answers, the client download.
SKIP_PREFIXES = ("/static/", "/assets/", "/client/", "/calendar/")
SKIP_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg", ".webp", ".gif", ".json", ".ics", ".zip", ".whl")
# Pages that differ only by an id or a query are one template: a few of each shape suffice.
PER_SHAPE = 3
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_PAGES = 300


@dataclass
class Page:
    role: str
    url: str
    status: int
    content_type: str
    body: bytes


@dataclass
class Walk:
    role: str
    pages: list[Page] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def html(self) -> list[Page]:
        """Pages to validate: error pages (404...) are pages too."""
        return [
            p
            for p in self.pages
            if p.status < 300 or p.status >= 400
            if p.content_type == "text/html"
        ]

    def of_type(self, content_type: str) -> list[Page]:
        return [p for p in self.pages if p.status == 200 and p.content_type == content_type]


def _shape(url: str) -> str:
    """/u/maya/p/comments/12?page=2 → /u/maya/p/comments/N?page: one template, one shape."""
    parts = urlsplit(url)
    path = re.sub(r"\d+", "N", parts.path)
    keys = sorted(k.split("=")[0] for k in parts.query.split("&") if k)
    return path + ("?" + "&".join(keys) if keys else "")


def _local(page: str, href: str, origin: str) -> str | None:
    """The site-relative URL of a link on `page`, or None for other sites and non-pages."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    url = urljoin(page, href)
    if url != origin and not url.startswith(origin + "/"):
        return None
    parts = urlsplit(url)
    path = parts.path or "/"
    if path.startswith(SKIP_PREFIXES) or path.lower().endswith(SKIP_SUFFIXES):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def _links(page_url: str, origin: str, body: bytes) -> list[str]:
    """Same-site links, feeds and GET forms (with their current values) of an HTML page."""
    doc = lxml.html.fromstring(body)
    page = origin + page_url
    found: list[str] = []
    for el in doc.iter("a", "link"):
        if el.tag == "link" and (el.get("rel") or "").lower() != "alternate":
            continue
        if url := _local(page, el.get("href") or "", origin):
            found.append(url)
    for form in doc.iter("form"):
        if (form.get("method") or "get").lower() != "get":
            continue
        action = _local(page, form.get("action") or page_url, origin)
        if action:
            values = [(k, v or "") for k, v in form.form_values()]
            found.append(action.split("?")[0] + ("?" + urlencode(values) if values else ""))
    return found


def walk(client: FlaskClient, role: str, origin: str, starts: list[str]) -> Walk:
    """GET every page reachable from `starts`, following redirects within the site."""
    result = Walk(role)
    queue = deque(starts)
    seen: set[str] = set()
    shapes: dict[str, int] = defaultdict(int)
    while queue and len(result.pages) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        shape = _shape(url)
        if shapes[shape] >= PER_SHAPE:
            continue
        shapes[shape] += 1
        response = client.get(url, base_url=origin)
        content_type = response.mimetype
        result.pages.append(Page(role, url, response.status_code, content_type, response.data))
        if response.status_code >= 500:
            result.server_errors.append(f"[{role}] {url} answered {response.status_code}")
        elif response.status_code in (301, 302, 303, 307, 308):
            target = _local(origin + url, response.headers.get("Location", ""), origin)
            if target:
                queue.append(target)
        elif response.status_code == 200 and content_type == "text/html":
            queue.extend(u for u in _links(url, origin, response.data) if u not in seen)
        elif response.status_code == 200 and url == "/sitemap.xml":
            locs = lxml.etree.fromstring(response.data).iter(f"{{{SITEMAP_NS}}}loc")
            queue.extend(u for loc in locs if (u := _local(origin, loc.text or "", origin)))
    return result


@dataclass(frozen=True)
class VnuMessage:
    role: str
    url: str
    line: int | None
    message: str
    extract: str


def vnu_version(java: str) -> str:
    out = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--version"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def check_html(java: str, pages: list[Page], folder: Path) -> list[VnuMessage]:
    """Run the Nu HTML checker once over all pages; its errors, with role and URL."""
    folder.mkdir(parents=True, exist_ok=True)
    names: dict[str, Page] = {}
    for i, page in enumerate(pages):
        path = folder / f"page-{i:04d}.html"
        path.write_bytes(page.body)
        names[path.name] = page
    proc = subprocess.run(
        [java, "-Xss8m", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--stdout",
         *[str(folder / n) for n in names]],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as err:
        raise AssertionError(
            f"vnu gave no JSON report (exit {proc.returncode}): {proc.stderr}"
        ) from err
    found = []
    for m in report.get("messages", []):
        page = names.get(Path(urlsplit(m.get("url", "")).path).name)
        found.append(
            VnuMessage(
                role=page.role if page else "?",
                url=page.url if page else m.get("url", "?"),
                line=m.get("lastLine"),
                message=f"{m.get('type')}: {m.get('message')}",
                extract=(m.get("extract") or "").strip().replace("\n", " ")[:160],
            )
        )
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not found):
        raise AssertionError(f"vnu failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return found


def format_messages(messages: list[VnuMessage]) -> str:
    """One block per page: "[role] URL", then "  line N: message" and the markup it quotes."""
    by_page: dict[tuple[str, str], list[VnuMessage]] = defaultdict(list)
    for m in messages:
        by_page[(m.role, m.url)].append(m)
    lines = [f"{len(messages)} HTML errors on {len(by_page)} pages:"]
    for (role, url), items in sorted(by_page.items()):
        lines.append(f"[{role}] {url}")
        for m in items:
            lines.append(f"  line {m.line}: {m.message}")
            if m.extract:
                lines.append(f"      {m.extract}")
    return "\n".join(lines)


def java_or_none() -> str | None:
    return shutil.which("java")
