"""An S3-compatible object store (AWS S3, MinIO, Ceph, R2 …) through boto3.

Timeouts and retries are bounded so that an unreachable store fails an upload
within seconds with ``StorageUnavailable`` instead of holding a worker.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .base import StorageNotFound, StorageUnavailable, StoredObject, check_key

logger = logging.getLogger(__name__)
_MISSING = {"NoSuchKey", "404", "NotFound"}


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket/some/prefix`` into the bucket and a prefix ending in "/" (or "")."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"STORAGE_URL must look like s3://bucket/prefix; got {url!r}")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""


class S3Storage:
    """Objects under ``prefix`` in one bucket (``session`` arguments are ignored)."""

    name: ClassVar[str] = "s3"

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        config = Config(
            connect_timeout=timeout,
            read_timeout=timeout,
            # One retry: enough for a dropped connection, short enough to fail fast.
            retries={"max_attempts": 2, "mode": "standard"},
            # Self-hosted stores (MinIO, moto) are addressed by path, not by subdomain.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            # Only the checksums S3 requires: some S3-compatible servers reject the rest.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # A session per backend: boto3 sessions are not thread-safe, clients are.
        self.client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _unavailable(self, action: str, key: str, exc: Exception) -> StorageUnavailable:
        detail = (
            exc.response.get("Error", {}).get("Code", "error")
            if isinstance(exc, ClientError)
            else type(exc).__name__
        )
        logger.warning("s3 storage: %s %s in bucket %s failed: %s", action, key, self.bucket, exc)
        return StorageUnavailable(detail=f"{action} {key}: {detail}")

    def put(self, key: str, data: bytes, content_type: str, *, session: object = None) -> None:
        """Upload the object in one request."""
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("put", key, exc) from exc

    def get(self, key: str, *, session: object = None) -> StoredObject:
        """Download the whole object (uploads are bounded in size)."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            data = response["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise StorageNotFound(detail=key) from exc
            raise self._unavailable("get", key, exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("get", key, exc) from exc
        content_type = response.get("ContentType") or "application/octet-stream"
        return StoredObject(data=data, content_type=content_type)

    def delete(self, key: str, *, session: object = None) -> None:
        """Delete the object; S3 answers success for a missing key too."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("delete", key, exc) from exc
