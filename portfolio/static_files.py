"""Static files for a web server in front: versioned URLs, and a collected, gzipped copy.

Every `url_for('static', ...)` carries `?v=<hash of the file>`, so a proxy and
browsers may keep static files for a year: a changed file gets a new URL.
`python -m portfolio.static_files DEST` copies the installed package's static
folder to DEST (for nginx to serve, see deploy/nginx/seasons.conf) and writes a
`.gz` beside each text file, which nginx's `gzip_static` sends as it is.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import sys
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask

STATIC = Path(__file__).resolve().parent / "static"
# Text formats worth compressing; images such as PNG are compressed already.
COMPRESSIBLE = frozenset({".css", ".js", ".svg", ".json", ".html", ".txt", ".map", ".xml"})


@cache
def file_version(path: Path) -> str | None:
    """A short hash of the file's bytes, computed once per process; None if missing."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return None


def init_app(app: Flask) -> None:
    """Add `v=<hash>` to every static URL the app builds."""
    folder = Path(app.static_folder or STATIC)

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
