"""Serve the training-script client (clients/python) as a wheel built in memory.

A wheel is a zip with the package and a ``*.dist-info`` folder (METADATA, WHEEL,
entry_points.txt, RECORD), so the standard library builds it; the bytes are
deterministic (fixed timestamps, sorted names) and built once per process. The
server's wheel carries the client's source as ``portfolio/_client/seasons_client``
(pyproject.toml force-include); a checkout reads ``clients/python`` beside it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort, redirect, url_for

PACKAGE = "seasons_client"
DIST = "seasons_client"  # the normalised distribution name seasons-client
SUMMARY = "Link or upload W&B runs to a Seasons portfolio (standard library only)."
_STAMP = (1980, 1, 1, 0, 0, 0)

bp = Blueprint("client", __name__)


@dataclass(frozen=True)
class Wheel:
    version: str
    filename: str
    data: bytes


def source_dir() -> Path:
    """The client package's source: inside the installed server, else in the checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_client" / PACKAGE, here.parent / "clients/python" / PACKAGE):
        if (candidate / "__init__.py").is_file():
            return candidate
    raise FileNotFoundError("the seasons_client sources are not installed")


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


@lru_cache(maxsize=1)
def build() -> Wheel:
    """Build the client's wheel (once per process)."""
    src = source_dir()
    init = (src / "__init__.py").read_text(encoding="utf-8")
    version = re.search(r'^__version__ = "([^"]+)"', init, re.M).group(1)  # type: ignore[union-attr]
    info = f"{DIST}-{version}.dist-info"
    readme = src.parent / "README.md"
    files: dict[str, bytes] = {
        f"{PACKAGE}/{p.name}": p.read_bytes() for p in sorted(src.glob("*.py"))
    }
    metadata = (
        f"Metadata-Version: 2.1\nName: seasons-client\nVersion: {version}\n"
        f"Summary: {SUMMARY}\nLicense: MIT\nRequires-Python: >=3.9\n"
    )
    if readme.is_file():
        metadata += "Description-Content-Type: text/markdown\n\n" + readme.read_text("utf-8")
    files[f"{info}/METADATA"] = metadata.encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: seasons\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nseasons = seasons_client.cli:main\n"
    record = [_record_line(name, data) for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=_STAMP)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return Wheel(version, f"{DIST}-{version}-py3-none-any.whl", out.getvalue())


@bp.get("/client/latest")
def latest():
    """Redirect to the versioned file: pip needs a URL ending in a wheel's filename."""
    return redirect(url_for("client.wheel", filename=build().filename), 302)


@bp.get("/client/<filename>")
def wheel(filename: str):
    """The client's wheel, for `pip install <site>/client/latest`."""
    built = build()
    if filename != built.filename:
        abort(404)
    response = Response(built.data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f"attachment; filename={built.filename}"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
