"""The wheel carries the product only: no dev tools (the fake W&B server), no tests."""

from __future__ import annotations

import zipfile

import pytest

from .procs import build_wheel

pytestmark = pytest.mark.slow


def test_wheel_leaves_out_devtools_and_tests(tmp_path):
    """devtools/ (the fake W&B GraphQL server) and any tests stay in the checkout."""
    wheel = build_wheel(tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    assert "portfolio/tracking/sync.py" in names  # the product is there
    assert "portfolio/markdown/sanitize.py" in names
    leaked = [
        name
        for name in names
        if name.startswith(("devtools/", "tests/", "bench/"))
        or "fakeserver" in name
        or "/tests/" in name
        or name.rsplit("/", 1)[-1].startswith("test_")
    ]
    assert leaked == []
