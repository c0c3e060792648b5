"""The test app with each storage backend in turn."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture(params=["database", "s3"])
def storage_app(request, app: Flask) -> Flask:
    """The app on the database backend, then on a bucket of the loopback S3 server."""
    if request.param == "s3":
        return request.getfixturevalue("s3_app")
    return app
