"""Both storage backends keep the same contract, against a real database and a real S3 server."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portfolio.models import StoredBlob
from portfolio.storage import (
    Storage,
    StorageNotFound,
    StorageUnavailable,
    build_storage,
    get_storage,
)
from portfolio.storage.s3 import parse_s3_url
from tests.fixtures_storage import s3_client


def test_put_get_replace_delete(storage_app):
    """What is put comes back byte for byte with its type; put replaces; delete forgets."""
    storage = get_storage(storage_app)
    assert isinstance(storage, Storage)
    data = bytes(range(256)) * 40  # every byte value, including NUL
    storage.put("images/a.png", data, "image/png")
    got = storage.get("images/a.png")
    assert (got.data, got.content_type) == (data, "image/png")
    storage.put("images/a.png", b"second", "image/webp")
    got = storage.get("images/a.png")
    assert (got.data, got.content_type) == (b"second", "image/webp")
    storage.delete("images/a.png")
    with pytest.raises(StorageNotFound):
        storage.get("images/a.png")
    storage.delete("images/a.png")  # missing is fine


def test_missing_key_is_not_found(storage_app):
    """A key never written raises StorageNotFound (a 404), not a crash."""
    with pytest.raises(StorageNotFound) as err:
        get_storage(storage_app).get("images/never.png")
    assert err.value.status == 404


def test_keys_that_escape_are_refused(storage_app):
    """Keys with .. segments or a leading slash are programming errors, refused on every backend."""
    storage = get_storage(storage_app)
    for key in ("", "/abs", "images/../secret", "../x"):
        with pytest.raises(ValueError):
            storage.put(key, b"x", "text/plain")


def test_storage_is_built_once_per_app(app):
    """get_storage caches the backend in app.extensions; inside a context it needs no argument."""
    with app.app_context():
        assert get_storage() is get_storage(app)
    assert app.extensions["storage"].name == "database"


def test_database_backend_keeps_rows(app, session):
    """The default backend keeps one row per key with its size."""
    get_storage(app).put("queue/run.zip", b"PK\x03\x04zip", "application/zip")
    get_storage(app).put("queue/run.zip", b"PK\x03\x04zip2", "application/zip")
    rows = session.exec(select(StoredBlob)).all()
    assert [(r.key, r.size, r.data) for r in rows] == [("queue/run.zip", 8, b"PK\x03\x04zip2")]


def test_s3_objects_live_under_the_prefix(s3_app, s3_endpoint, s3_bucket):
    """The S3 backend writes under the URL's prefix, with the content type, seen by any client."""
    get_storage(s3_app).put("images/b.jpg", b"\xff\xd8jpeg", "image/jpeg")
    head = s3_client(s3_endpoint).get_object(Bucket=s3_bucket, Key="uploads/images/b.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert head["Body"].read() == b"\xff\xd8jpeg"


@pytest.mark.timeout(60)  # a hang guard, not a speed claim
def test_s3_unreachable_fails_fast(dead_s3_app):
    """An S3 endpoint where nothing listens raises StorageUnavailable (503), not a hang.

    Fast because the client is bounded: short timeouts and at most two attempts.
    """
    storage = get_storage(dead_s3_app)
    config = storage.client.meta.config
    assert config.connect_timeout <= 5 and config.read_timeout <= 5
    assert config.retries["total_max_attempts"] <= 3  # botocore: the first try + 2 retries
    for call in (
        lambda: storage.put("images/c.png", b"x", "image/png"),
        lambda: storage.get("images/c.png"),
        lambda: storage.delete("images/c.png"),
    ):
        with pytest.raises(StorageUnavailable) as err:
            call()
        assert err.value.status == 503 and "not reachable" in err.value.message


def test_s3_missing_bucket_is_unavailable(app, s3_endpoint):
    """A bucket that does not exist is a misconfigured store: StorageUnavailable, not a 500."""
    from tests.fixtures_storage import s3_settings

    storage = build_storage(s3_settings(s3_endpoint, "no-such-bucket-here"), engine=None)
    with pytest.raises(StorageUnavailable):
        storage.put("images/d.png", b"x", "image/png")


def test_storage_url_is_checked_at_start_up():
    """A misspelt STORAGE_URL stops start-up with a message naming the setting."""
    from pathlib import Path

    from portfolio.config import from_env

    with pytest.raises(ValueError, match="STORAGE_URL"):
        from_env(Path("/tmp"), {"STORAGE_URL": "s4://bucket"})
    assert from_env(Path("/tmp"), {})["STORAGE_URL"] == "database"
    assert parse_s3_url("s3://bkt/a/b/") == ("bkt", "a/b/")
    assert parse_s3_url("s3://bkt") == ("bkt", "")
