"""Static files: versioned URLs, served gzipped and immutable, and a collected copy for nginx.

Every `url_for('static', ...)` carries `?v=<hash of the file>`, so a proxy and
browsers may keep static files for a year: a changed file gets a new URL. The
app serves them itself the same way nginx does: the gzipped bytes (compressed
once per process) to clients that accept gzip, and `immutable` for a year when
the URL's version is the file's (any other URL revalidates).
`python -m portfolio.static_files DEST` copies the installed package's static
folder to DEST (for nginx to serve, see deploy/nginx/seasons.conf) and writes a
`.gz` beside each text file, which nginx's `gzip_static` sends as it is.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import shutil
import sys
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, abort, request
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from .compression import compress, send_variant

STATIC = Path(__file__).resolve().parent / "static"
# Text formats worth compressing; images such as PNG are compressed already.
COMPRESSIBLE = frozenset({".css", ".js", ".svg", ".json", ".html", ".txt", ".map", ".xml"})
IMMUTABLE = "public, max-age=31536000, immutable"


@cache
def file_version(path: Path) -> str | None:
    """A short hash of the file's bytes, computed once per process; None if missing."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return None


@cache
def _file_bytes(path: Path) -> tuple[bytes, bytes | None]:
    """The file's bytes and, for text formats, their gzip (None when not worth it)."""
    data = path.read_bytes()
    return data, compress(data) if path.suffix in COMPRESSIBLE else None


def serve_static(folder: Path, filename: str) -> Response:
    """Send a static file, gzipped when accepted, cached for a year at its versioned URL."""
    joined = safe_join(str(folder), filename)
    if joined is None or not Path(joined).is_file():
        abort(404)
    path = Path(joined)
    data, packed = _file_bytes(path)
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = Response(data, mimetype=kind)
    version = file_version(path)
    response.headers["Cache-Control"] = (
        IMMUTABLE if version and request.args.get("v") == version else "no-cache"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(version or hashlib.sha256(data).hexdigest()[:12])
    return send_variant(response, packed).make_conditional(request)


def init_app(app: Flask) -> None:
    """Add `v=<hash>` to every static URL the app builds, and serve them gzipped and immutable."""
    folder = Path(app.static_folder or STATIC)
    app.view_functions["static"] = lambda filename: serve_static(folder, filename)

    @app.url_defaults
    def _version_static(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = file_version(folder / values["filename"])
            if version:
                values["v"] = version


def collect(dest: Path, source: Path = STATIC) -> list[Path]:
    """Copy the static folder to dest and gzip its text files beside them; return the .gz."""
    shutil.copytree(source, dest, dirs_exist_ok=True)
    written = []
    for path in sorted(dest.rglob("*")):
        if path.is_file() and path.suffix in COMPRESSIBLE:
            target = path.with_name(path.name + ".gz")
            # mtime=0: the same input gives the same bytes, so rebuilt images are identical.
            target.write_bytes(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))
            shutil.copystat(path, target)
            written.append(target)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m portfolio.static_files DEST", file=sys.stderr)
        return 2
    written = collect(Path(argv[0]))
    print(f"static files in {argv[0]} ({len(written)} gzipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
