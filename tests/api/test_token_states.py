"""Every operation with every token state: none, read, write, revoked, expired, another user's.

Refused calls must write nothing: the watched tables are compared before and
after each of them. The write token goes last, so its change cannot hide a
refused call's.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from portfolio.api.routing import OPERATIONS
from portfolio.models import OfflineImport

from .conftest import TOKEN_STATES, World, problem, snapshot_tables


@dataclass(frozen=True)
class Case:
    endpoint: str  # the view name, to check every operation is covered
    method: str
    path: str  # with {project}, {milestone}, {link}, {notification} placeholders
    scope: str | None  # None: public
    owned: bool  # names maya's things: another user's token gets 404
    success: int = 200
    body: dict[str, Any] | None = None
    data: bytes | None = None  # a raw body (the offline-run zip) instead of JSON


def _run_zip() -> bytes:
    """A zip whose directory passes the upload's request checks (one run-*.wandb)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("offline-run-20270101_000000-abc/run-abc.wandb", b":W&B")
    return out.getvalue()


TODAY = datetime.now(UTC).date().isoformat()
P = "/api/v1/projects/{project}"
CASES = [
    Case("me", "GET", "/api/v1/me", "read", owned=False),
    Case("list_seasons", "GET", "/api/v1/seasons", None, owned=False),
    Case("list_projects", "GET", "/api/v1/projects", "read", owned=False),
    Case(
        "create_project", "POST", "/api/v1/projects", "write", owned=False, success=201,
        body={"title": "Second", "allow_second": True},
    ),
    Case("get_project", "GET", P, "read", owned=True),
    Case("update_project", "PATCH", P, "write", owned=True, body={"summary": "New summary"}),
    Case("list_milestones", "GET", P + "/milestones", "read", owned=True),
    Case(
        "create_milestone", "POST", P + "/milestones", "write", owned=True, success=201,
        body={"title": "Extra check", "due_date": TODAY},
    ),
    Case("get_milestone", "GET", P + "/milestones/{milestone}", "read", owned=True),
    Case(
        "update_milestone", "PATCH", P + "/milestones/{milestone}", "write", owned=True,
        body={"title": "Renamed"},
    ),
    Case(
        "complete_milestone", "POST", P + "/milestones/{milestone}/complete", "write",
        owned=True, body={"note": "Done"},
    ),
    Case("list_runs", "GET", P + "/runs", "read", owned=True),
    Case("get_run", "GET", P + "/runs/{link}", "read", owned=True),
    Case(
        "create_run", "POST", P + "/runs", "write", owned=True, success=201,
        body={"ref": "maya/houses/run2"},
    ),
    Case("sync_run", "POST", P + "/runs/{link}/sync", "write", owned=True, success=202),
    Case(
        "update_run", "PATCH", P + "/runs/{link}", "write", owned=True, body={"label": "v1"},
    ),
    # nothing is held in this world: a member gets 422 (test_runs_edit covers the choices)
    Case("keep_run_results", "POST", P + "/runs/{link}/keep", "write", True, success=422),
    Case("replace_run_results", "POST", P + "/runs/{link}/replace", "write", True, success=422),
    Case(
        "upload_offline_run", "POST", P + "/offline-runs", "write", owned=True, success=202,
        data=_run_zip(),
    ),
    Case("get_offline_run", "GET", P + "/offline-runs/{offline_import}", "read", owned=True),
    Case("list_offline_runs", "GET", P + "/offline-runs", "read", owned=True),
    Case("list_updates", "GET", P + "/updates", "read", owned=True),
    Case(
        "create_update", "POST", P + "/updates", "write", owned=True, success=201,
        body={"body_md": "Tried **gradient boosting**."},
    ),
    Case("list_notifications", "GET", "/api/v1/notifications", "read", owned=False),
    Case(
        "read_notification", "POST", "/api/v1/notifications/{notification}/read", "write",
        owned=True,
    ),
    Case("read_all_notifications", "POST", "/api/v1/notifications/read-all", "write", False),
    Case("public_projects", "GET", "/api/v1/public/users/theo/projects", None, owned=False),
    Case("public_project", "GET", "/api/v1/public/projects/theo/bird-songs", None, False),
]  # fmt: skip


def _offline_import(session, world: World) -> int:
    job = OfflineImport(
        project_id=world.project.id, user_id=world.owner.id, storage_key="offline-imports/x.zip"
    )
    session.add(job)
    session.commit()
    return job.id


def expected(case: Case, state: str) -> int:
    if state in ("revoked", "expired"):
        return 401  # a bad token is refused even where none is needed
    if case.scope is None:
        return case.success
    if state == "none":
        return 401
    if state == "read" and case.scope == "write":
        return 403
    if state == "other" and case.owned:
        return 404
    return case.success


def test_every_operation_is_in_the_matrix():
    """A new operation must be added here, with its scope and owner."""
    assert {c.endpoint for c in CASES} == {op.endpoint for op in OPERATIONS}
    scopes = {op.endpoint: op.scope.value if op.scope else None for op in OPERATIONS}
    assert all(scopes[c.endpoint] == c.scope for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.endpoint)
def test_token_states(client, session, world: World, fake_wandb, case: Case):
    """Each token state gets its status; a refused call changes nothing."""
    path = case.path.format(
        project=world.project.id,
        milestone=world.milestone.id,
        link=world.link.id,
        notification=world.notification.id,
        offline_import=_offline_import(session, world) if "{offline_import}" in case.path else 0,
    )
    for state in TOKEN_STATES:
        before = snapshot_tables(session)
        body = {"data": case.data, "content_type": "application/zip"} if case.data else {}
        response = client.open(
            path, method=case.method, headers=world.headers(state), json=case.body, **body
        )
        want = expected(case, state)
        assert response.status_code == want, (state, response.get_data(as_text=True))
        if want >= 400:
            body = problem(response)
            if want == 401:
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
            if state == "read" and want == 403:
                assert "insufficient_scope" in response.headers["WWW-Authenticate"]
                assert "write" in body["detail"]
            if case.method != "GET":
                assert snapshot_tables(session) == before, state
        else:
            assert response.mimetype == "application/json"
