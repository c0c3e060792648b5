"""The tracking area's service functions in one place, for views, the API, jobs and the CLI.

The logic lives in role-sized modules (link.py, sync.py, credentials.py, imports.py,
snapshots.py, status.py); this module only gathers the names callers need, so they write
``from portfolio.tracking import service`` like every other area. All functions add and
flush; the caller commits, and rolls back on a ``DomainError``.
"""

from __future__ import annotations

from .credentials import (
    KeySource,
    delete_credential,
    list_credentials,
    resolve_key,
    save_credential,
)
from .imports import import_offline
from .link import (
    LinkRow,
    add_project_filter,
    add_run_link,
    get_link,
    list_links,
    request_sync,
    unlink,
    update_link,
)
from .settings import TrackingSettings
from .snapshots import headline_metrics, replace_snapshot
from .status import Status, describe
from .sync import apply, claim_due, fetch, prepare, record_crash

__all__ = [
    "KeySource",
    "LinkRow",
    "Status",
    "TrackingSettings",
    "add_project_filter",
    "add_run_link",
    "apply",
    "claim_due",
    "delete_credential",
    "describe",
    "fetch",
    "get_link",
    "headline_metrics",
    "import_offline",
    "list_credentials",
    "list_links",
    "prepare",
    "record_crash",
    "replace_snapshot",
    "request_sync",
    "resolve_key",
    "save_credential",
    "unlink",
    "update_link",
]
