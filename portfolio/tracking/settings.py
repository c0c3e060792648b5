"""Tracking settings read once from the app config, and the providers built from them.

Services get a ``TrackingSettings`` instead of reaching into ``current_app`` everywhere, so
the sync phase that talks to W&B needs no app context and tests can pass their own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

from .provider import TrackingProvider, get_provider
from .refs import validate_base_url

ONLINE_PROVIDERS = ("wandb", "mlflow")  # synced on a schedule; "wandb-offline" is uploaded
OFFLINE_PROVIDER = "wandb-offline"
# W&B's cloud answers on both API hosts with the same accounts, so a key saved for one
# works for links pasted from the other.
CLOUD_BASE_URLS = frozenset({"https://api.wandb.ai", "https://api.forge.coreweave.com"})


SOURCE_NAMES = {"wandb": "W&B", OFFLINE_PROVIDER: "W&B", "mlflow": "MLflow"}


def source_name(provider: str) -> str:
    """Name a link's tracker for people (pages and the public API say where a run is from)."""
    return SOURCE_NAMES.get(provider, provider)


def same_server(a: str | None, b: str | None) -> bool:
    """Tell whether two API base URLs reach the same W&B accounts."""
    return bool(a and b) and (a == b or (a in CLOUD_BASE_URLS and b in CLOUD_BASE_URLS))


@dataclass(frozen=True)
class TrackingSettings:
    """What tracking needs from the configuration (the server key is never shown)."""

    base_url: str
    server_key: str | None = field(default=None, repr=False)
    data_dir: str = "instance/wandb"
    timeout: float = 15.0
    retries: int = 2
    link_check_seconds: float = 8.0
    sync_batch: int = 10
    sync_concurrency: int = 4
    fetch_seconds: float = 300.0
    upload_max_bytes: int = 100 * 1024 * 1024
    page_size: int = 1_000

    @classmethod
    def from_config(cls, config: Any, instance_path: str) -> TrackingSettings:
        """Read the settings documented in config.py.

        wandb's own files (cache, config) go where wandb's ``WANDB_DIR`` says,
        else into the instance folder. ``configure_wandb`` sets that variable, so
        once one app has configured wandb every later one in the process finds
        the same folder and never sets wandb up twice (tests rely on this).
        """
        data_dir = os.environ.get("WANDB_DIR") or str(Path(instance_path) / "wandb")
        return cls(
            base_url=validate_base_url(config.get("WANDB_BASE_URL")) or "https://api.wandb.ai",
            server_key=(config.get("WANDB_API_KEY") or "").strip() or None,
            data_dir=data_dir,
            timeout=float(config.get("WANDB_TIMEOUT", 15.0)),
            retries=int(config.get("WANDB_RETRIES", 2)),
            link_check_seconds=float(config.get("WANDB_LINK_CHECK_SECONDS", 8.0)),
            sync_batch=int(config.get("WANDB_SYNC_BATCH", 10)),
            sync_concurrency=max(1, int(config.get("SYNC_CONCURRENCY", 4))),
            fetch_seconds=float(config.get("SYNC_FETCH_SECONDS", 300.0)),
            upload_max_bytes=int(config.get("WANDB_UPLOAD_MAX_BYTES", 100 * 1024 * 1024)),
        )

    @classmethod
    def current(cls) -> TrackingSettings:
        """Return the settings of the current app."""
        return cls.from_config(current_app.config, current_app.instance_path)

    def provider(
        self, *, api_key: str | None, base_url: str, name: str = "wandb"
    ) -> TrackingProvider:
        """Build a provider (W&B unless ``name`` says otherwise) for one server and key."""
        return get_provider(
            name,
            api_key=api_key,
            base_url=base_url,
            data_dir=self.data_dir,
            timeout=self.timeout,
            retries=self.retries,
            page_size=self.page_size,
        )
