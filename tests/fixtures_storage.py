"""A real S3-compatible server on loopback (moto in server mode) and apps that use it."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import boto3
import pytest
from flask import Flask

S3_ACCESS_KEY = "seasons-test-access"
S3_SECRET_KEY = "seasons-test-secret"


def free_port() -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Start moto's S3 server once for the test session; yield its address."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str):
    """A plain boto3 client of the loopback server, to check what the app stored."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
    )


@pytest.fixture()
def s3_bucket(s3_endpoint: str) -> str:
    """A new, empty bucket on the loopback server."""
    name = f"seasons-{uuid.uuid4().hex[:12]}"
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    return name


def s3_settings(endpoint: str, bucket: str, prefix: str = "uploads") -> dict[str, object]:
    """App settings that point storage at ``bucket`` on ``endpoint``."""
    return {
        "STORAGE_URL": f"s3://{bucket}/{prefix}",
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "S3_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "S3_TIMEOUT": 2.0,
    }


@pytest.fixture()
def s3_app(app: Flask, s3_endpoint: str, s3_bucket: str) -> Flask:
    """The test app with uploads going to a fresh bucket on the loopback S3 server."""
    app.config.update(s3_settings(s3_endpoint, s3_bucket))
    app.extensions.pop("storage", None)
    return app


@pytest.fixture()
def dead_s3_app(app: Flask) -> Flask:
    """The test app pointed at an S3 endpoint where nothing listens."""
    app.config.update(s3_settings(f"http://127.0.0.1:{free_port()}", "nowhere"))
    app.extensions.pop("storage", None)
    return app
