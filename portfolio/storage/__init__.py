"""Storage backends for uploads: the database (default) or an S3-compatible store.

``get_storage()`` returns the backend chosen by ``STORAGE_URL``, built once per
app. Views, API and scheduler jobs all go through it, so a file written by one
host is readable on every other host and by the scheduler.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app

from .base import (
    Storage,
    StorageError,
    StorageNotFound,
    StorageUnavailable,
    StoredObject,
    check_key,
)

__all__ = [
    "Storage",
    "StorageError",
    "StorageNotFound",
    "StorageUnavailable",
    "StoredObject",
    "build_storage",
    "check_key",
    "get_storage",
]


def build_storage(config: Mapping[str, Any], *, engine: Any) -> Storage:
    """Build the backend ``config["STORAGE_URL"]`` names (no network until first use)."""
    url = config.get("STORAGE_URL") or "database"
    if url == "database":
        from .database import DatabaseStorage

        return DatabaseStorage(engine)
    if url.startswith("s3://"):
        from .s3 import S3Storage

        return S3Storage(
            url,
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION"),
            access_key_id=config.get("S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
            timeout=float(config.get("S3_TIMEOUT") or 5),
        )
    raise ValueError(f"STORAGE_URL must be 'database' or s3://bucket/prefix; got {url!r}")


def get_storage(app: Flask | None = None) -> Storage:
    """Return the app's configured backend, built on first use and kept in app.extensions."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    storage = app.extensions.get("storage")
    if storage is None:
        storage = build_storage(app.config, engine=app.extensions["engine"])
        app.extensions["storage"] = storage
    return storage
