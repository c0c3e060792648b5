"""Serve the training-script client (clients/python) as a source zip and a wheel.

Both are built in memory by the client's own standard-library build backend
(``clients/python/seasons_build.py``), once per process. pip decides how to treat a
URL by its file name before following redirects, so ``/client/latest`` redirects to
the versioned source zip, which pip builds with that backend (it needs nothing from
an index); the wheel is served too for tools that take one. The server's wheel
carries the client's sources as ``portfolio/_client`` (pyproject.toml force-include);
a checkout reads ``clients/python`` beside the package.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from flask import Blueprint, Response, abort, redirect, url_for

bp = Blueprint("client", __name__)


@dataclass(frozen=True)
class Builds:
    version: str
    files: dict[str, bytes]  # file name -> bytes: the source zip and the wheel
    latest: str  # the file /client/latest points pip to


def source_root() -> Path:
    """The client's sources: inside the installed server, else in the checkout."""
    here = Path(__file__).resolve().parent
    for root in (here / "_client", here.parent / "clients" / "python"):
        if (root / "seasons_build.py").is_file():
            return root
    raise FileNotFoundError("the seasons_client sources are not installed")


def _backend(root: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("_seasons_build", root / "seasons_build.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@lru_cache(maxsize=1)
def build() -> Builds:
    """Build the client's source zip and wheel (once per process)."""
    root = source_root()
    backend = _backend(root)
    sdist = backend.source_zip_name(root)
    files = {sdist: backend.source_zip(root), backend.wheel_name(root): backend.wheel_bytes(root)}
    return Builds(backend.package_version(root), files, sdist)


@bp.get("/client/latest")
def latest():
    """Redirect to the current version's source zip, which `pip install` builds offline."""
    return redirect(url_for("client.download", filename=build().latest), 302)


@bp.get("/client/<filename>")
def download(filename: str):
    """One of the client's files (source zip or wheel) of the current version."""
    data = build().files.get(filename)
    if data is None:
        abort(404)
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
