"""Backup round trip and the learner's own data download."""

from __future__ import annotations

import json

from sqlalchemy import select

from portfolio.backup import UNUSABLE_HASH, BackupError, export_data, import_data
from portfolio.migrate import upgrade
from portfolio.models import TrackingCredential, User
from portfolio.storage import get_storage
from portfolio.storage.database import DatabaseStorage
from tests.conftest import login


def _dump(engine):
    with engine.connect() as conn:
        return export_data(conn, include_secrets=True)


def test_round_trip_every_table(app, session, published, fresh_engine, runner, tmp_path):
    """export-data then import-data into an empty database gives back every row and upload."""
    maya, _ = published
    session.add(
        TrackingCredential(
            user_id=maya.id,
            base_url="https://api.wandb.ai",
            secret_encrypted=b"\x00\xffkey",
            last4="abcd",
        )
    )
    session.commit()
    blob = bytes(range(256))  # NUL and non-UTF-8 bytes: base64 in the JSON
    get_storage(app).put("images/fig.png", blob, "image/png")
    out = tmp_path / "backup.json"
    result = runner.invoke(args=["export-data", str(out), "--include-secrets"])
    assert result.exit_code == 0, result.output
    upgrade(fresh_engine)
    with fresh_engine.begin() as conn:
        counts = import_data(conn, json.loads(out.read_text()))
    assert counts["users"] == 1 and counts["run_snapshots"] == 3
    assert counts["stored_objects"] == 1
    assert DatabaseStorage(fresh_engine).get("images/fig.png").data == blob
    original = _dump(app.extensions["engine"])
    restored = _dump(fresh_engine)
    assert restored["tables"] == original["tables"]


def test_export_without_secrets_and_refusals(app, session, published, fresh_engine):
    with app.extensions["engine"].connect() as conn:
        data = export_data(conn)
    assert "password_hash" not in data["tables"]["users"][0]
    upgrade(fresh_engine)
    with fresh_engine.begin() as conn:
        import_data(conn, data)
    with fresh_engine.connect() as conn:
        hashes = conn.execute(select(User.__table__.c.password_hash)).scalars().all()
    assert hashes == [UNUSABLE_HASH]
    for bad, message in [
        ({"format": "other"}, "not a Seasons backup"),
        ({**data, "revision": "0001"}, "schema 0001"),
        (data, "not empty"),
    ]:
        with fresh_engine.begin() as conn:
            try:
                import_data(conn, bad)
            except BackupError as err:
                assert message in str(err)
            else:  # pragma: no cover
                raise AssertionError(message)


def test_learner_downloads_own_data(client, published):
    maya, project = published
    assert client.get("/settings/data.json").status_code == 302
    login(client, maya)
    response = client.get("/settings/data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_json()
    assert data["profile"]["handle"] == "maya" and "password_hash" not in data["profile"]
    assert [p["title"] for p in data["projects"]] == [project.title]
    assert len(data["milestones"]) == 4 and len(data["run_snapshots"]) == 3
