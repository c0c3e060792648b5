"""`flask migrate-uploads` moves figures from instance/uploads into the configured backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from portfolio.models import ProjectImage
from portfolio.projects.images import storage_key
from portfolio.storage import StorageNotFound, get_storage


def _legacy_figures(session, project, folder: Path) -> list[ProjectImage]:
    """Rows and files as an older version left them: three figures, one file lost."""
    folder.mkdir(parents=True)
    rows = []
    for n, ext in enumerate(("png", "jpg", "gif")):
        row = ProjectImage(
            project_id=project.id,
            filename=f"old{n}.{ext}",
            content_type=f"image/{'jpeg' if ext == 'jpg' else ext}",
            alt="old",
            width=1,
            height=1,
            size=3,
        )
        session.add(row)
        rows.append(row)
        if n < 2:
            (folder / row.filename).write_bytes(f"bytes{n}".encode())
    (folder / "stray.tmp").write_bytes(b"?")
    session.commit()
    return rows


def test_migrate_uploads_moves_files_once(storage_app, session, published):
    """Files named by a figure row move into storage; a second run moves nothing and says so."""
    _, project = published
    folder = Path(storage_app.instance_path) / "uploads"
    rows = _legacy_figures(session, project, folder)
    runner = storage_app.test_cli_runner()
    first = runner.invoke(args=["migrate-uploads"])
    assert first.exit_code == 0, first.output
    assert "Moved 2 figures into storage; 0 were already there, 1 are missing, 1 unknown" in (
        first.output
    )
    storage = get_storage(storage_app)
    assert storage.get(storage_key("old0.png")).data == b"bytes0"
    got = storage.get(storage_key("old1.jpg"))
    assert (got.data, got.content_type) == (b"bytes1", "image/jpeg")
    with pytest.raises(StorageNotFound):
        storage.get(storage_key(rows[2].filename))
    assert sorted(p.name for p in folder.iterdir()) == ["stray.tmp"]

    second = runner.invoke(args=["migrate-uploads"])
    assert second.exit_code == 0, second.output
    assert "Moved 0 figures into storage; 2 were already there, 1 are missing" in second.output
    page = storage_app.test_client().get(f"/u/maya/{project.slug}/images/old0.png")
    assert page.status_code == 200 and page.data == b"bytes0"


def test_migrate_uploads_with_store_down_keeps_files(dead_s3_app, session, published):
    """An unreachable store stops the command with a message; every file is still on disk."""
    _, project = published
    folder = Path(dead_s3_app.instance_path) / "uploads"
    _legacy_figures(session, project, folder)
    result = dead_s3_app.test_cli_runner().invoke(args=["migrate-uploads"])
    assert result.exit_code != 0
    assert "not reachable" in result.output and "run the command again" in result.output
    assert sorted(p.name for p in folder.iterdir()) == ["old0.png", "old1.jpg", "stray.tmp"]
