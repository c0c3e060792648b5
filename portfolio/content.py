"""Site pages and data that ship in content/."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from .markdown import render_markdown


def content_dir() -> Path:
    return Path(current_app.config["CONTENT_DIR"])


def render_page(name: str):
    """Render content/pages/<name>.md through the one markdown renderer."""
    path = content_dir() / "pages" / f"{name}.md"
    return render_markdown(path.read_text(encoding="utf-8"))
