"""The production-shape script passes: gunicorn ×4, Redis, two schedulers, a killed one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_production_shape_has_no_errors_and_no_duplicates():
    result = subprocess.run(
        [sys.executable, "bench/prod_shape.py", "--learners", "12"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "duplicates: 0" in result.stdout and "sent twice: 0" in result.stdout
    assert "HTTP errors: 0" in result.stdout
