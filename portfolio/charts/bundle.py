"""The vega-embed JavaScript bundle, built by vl-convert and served by the app."""

from __future__ import annotations

import gzip
import os
import tempfile
from functools import cache
from pathlib import Path

import vl_convert

from .spec import VL_VERSION


@cache
def vega_embed_bundle() -> str:
    """Return vega-embed, Vega-Lite and Vega as one script (about 0.9 MB).

    It sets `window.vegaEmbed` (in vl-convert 1.9 `window.vega` and
    `window.vegaLite` come out null: Vega has no default export, so charts.js
    relies on vegaEmbed alone). It carries Vega's expression interpreter, so
    charts.js runs with `ast: true` under `script-src 'self'` (no eval).
    Building takes about two seconds, so the result is kept for the process.
    """
    return vl_convert.javascript_bundle(vl_version=VL_VERSION)


def bundle_version() -> str:
    """Return a tag naming the library versions in the bundle, for file names and ETags."""
    return f"vl{VL_VERSION}-vega{vl_convert.get_vega_version()}-embed" + (
        vl_convert.get_vega_embed_version()
    )


def bundle_filename() -> str:
    """Return a versioned file name, so browsers may cache the bundle for good."""
    return f"vega-embed-{bundle_version()}.js"


def write_bundle(path: str | os.PathLike[str]) -> Path:
    """Write the bundle to `path`, and its gzip to `path`.gz, atomically; return `path`.

    A reader never sees half a file. The .gz (about a third of the size) is
    what browsers that accept gzip get; the .gz is written first, so a present
    bundle always has its .gz beside it.

    Meant for the instance folder at first use or at deploy time:
    `write_bundle(Path(app.instance_path) / "assets" / bundle_filename())`, as
    public/project_views.py does.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = vega_embed_bundle().encode("utf-8")
    _write_atomic(target.with_name(target.name + ".gz"), gzip.compress(data, 9, mtime=0))
    _write_atomic(target, data)
    return target


def _write_atomic(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
