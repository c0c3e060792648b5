"""Uploaded figures live in the storage backend: every host serves them, outages refuse uploads."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlmodel import select

from portfolio import create_app
from portfolio.models import Project, ProjectImage, StoredBlob
from portfolio.projects import images
from portfolio.public.export import ExportError, export_site
from portfolio.storage import StorageNotFound, get_storage
from tests.conftest import csrf_token, login


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (10, 200, 30)).save(out, format="PNG")
    return out.getvalue()


def _upload(client, slug: str):
    return client.post(
        f"/u/maya/{slug}/images",
        data={
            "image": (io.BytesIO(_png()), "fig.png"),
            "alt": "A figure",
            "csrf_token": csrf_token(client, f"/u/maya/{slug}/write-up"),
        },
        content_type="multipart/form-data",
    )


def _other_host(app: Flask, tmp_path: Path) -> Flask:
    """A second app on the same database and storage settings with its own instance folder."""
    settings = {k: app.config[k] for k in ("DATABASE_URL", "STORAGE_URL") if k in app.config}
    settings.update({k: v for k, v in app.config.items() if k.startswith("S3_")})
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "host-b"),
            "SECRET_KEY": secrets.token_hex(32),
            "LOG_FORMAT": "text",
            "SCHEDULER_IN_WEB": False,
            **settings,
        }
    )


def test_figure_is_stored_served_exported_and_deleted(
    storage_app, client, session, published, tmp_path
):
    """Upload → object in the backend, none on disk → another host serves it → export → delete."""
    maya, project = published
    login(client, maya)
    assert _upload(client, project.slug).status_code == 302
    image = session.exec(select(ProjectImage)).one()
    stored = get_storage(storage_app).get(images.storage_key(image.filename))
    assert stored.content_type == "image/png" and stored.data[:4] == b"\x89PNG"
    assert not (Path(storage_app.instance_path) / "uploads").exists()

    url = f"/u/maya/{project.slug}/images/{image.filename}"
    host_b = _other_host(storage_app, tmp_path)
    served = host_b.test_client().get(url)
    host_b.extensions["engine"].dispose()
    assert served.status_code == 200 and served.data == stored.data
    assert served.mimetype == "image/png" and "max-age=86400" in served.headers["Cache-Control"]
    assert served.headers["ETag"] and served.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304

    export_site(storage_app, tmp_path / "site", "maya")
    exported = tmp_path / "site" / project.slug / "images" / image.filename
    assert exported.read_bytes() == stored.data

    token = csrf_token(client, f"/u/maya/{project.slug}/write-up")
    assert client.post(f"{url}/delete", data={"csrf_token": token}).status_code == 302
    with pytest.raises(StorageNotFound):
        get_storage(storage_app).get(images.storage_key(image.filename))
    assert client.get(url).status_code == 404


def test_unreachable_store_refuses_the_upload(dead_s3_app, client, session, published):
    """With the object store down the form says so (503), and no image row is written."""
    maya, project = published
    login(client, maya)
    version = session.get(Project, project.id).version
    response = _upload(client, project.slug)
    assert response.status_code == 503
    assert "file store is not reachable" in response.get_data(as_text=True)
    session.expire_all()
    assert session.exec(select(ProjectImage)).first() is None
    assert session.get(Project, project.id).version == version


def test_unreachable_store_refuses_delete_and_serving(s3_app, client, session, published):
    """Store down after an upload: serving and deleting answer 503 with a reason; the row stays."""
    maya, project = published
    login(client, maya)
    assert _upload(client, project.slug).status_code == 302
    image = session.exec(select(ProjectImage)).one()
    s3_app.config["S3_ENDPOINT_URL"] = "http://127.0.0.1:9"  # discard port: nothing answers
    s3_app.extensions.pop("storage")
    url = f"/u/maya/{project.slug}/images/{image.filename}"
    cached = client.get(url, headers={"If-None-Match": f'"{image.filename}"'})
    assert cached.status_code == 304  # a browser's revalidation needs no store
    served = client.get(url)
    assert served.status_code == 503 and "not reachable" in served.get_data(as_text=True)
    token = csrf_token(client, f"/u/maya/{project.slug}/write-up")
    refused = client.post(f"{url}/delete", data={"csrf_token": token})
    assert refused.status_code == 503 and "not reachable" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.exec(select(ProjectImage)).one().filename == image.filename


def test_failed_commit_discards_the_stored_object(s3_app, session):
    """When the commit after a put fails, the object is deleted again: no orphan in the bucket."""
    with s3_app.app_context():
        key = images.storage_key("orphan.png")
        get_storage().put(key, b"png", "image/png")
        with pytest.raises(RuntimeError), images.discard_on_failure(session, "orphan.png"):
            raise RuntimeError("commit failed")
        with pytest.raises(StorageNotFound):
            get_storage().get(key)


def test_database_backend_rolls_back_with_the_request(app, session, published):
    """On the default backend the object is written in the request's transaction."""
    maya, project = published
    with app.test_request_context():
        from portfolio.db import get_session

        request_session = get_session()
        images.save_image(
            request_session,
            request_session.get(Project, project.id),
            uploader=maya,
            stream=io.BytesIO(_png()),
            alt="x",
        )
        request_session.rollback()
    assert session.exec(select(StoredBlob)).first() is None
    assert session.exec(select(ProjectImage)).first() is None


def test_export_names_an_unreadable_figure(s3_app, client, session, published, tmp_path):
    """A figure the store cannot return stops the export with a message, not a traceback."""
    maya, project = published
    login(client, maya)
    assert _upload(client, project.slug).status_code == 302
    image = session.exec(select(ProjectImage)).one()
    get_storage(s3_app).delete(images.storage_key(image.filename))
    with pytest.raises(ExportError, match="uploaded figure"):
        export_site(s3_app, tmp_path / "site", "maya")
