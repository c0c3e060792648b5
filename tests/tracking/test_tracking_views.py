"""Browser-level flows through the Flask test client, with CSRF, against the fake W&B."""

from __future__ import annotations

import io

import pytest
from sqlmodel import func, select

from devtools.wandb.fakeserver import FakeWandb
from portfolio.models import (
    ImportState,
    OfflineImport,
    RunLink,
    StoredBlob,
    SyncState,
    TrackingCredential,
    Visibility,
)
from scheduler import jobs
from tests.conftest import csrf_token

from .conftest import TEST_KEY, OfflineRun
from .test_tracking_wandb import add_run
from .test_tracking_zip import zip_of_run


@pytest.fixture
def pages(wandb_app, session, project, learner, login_as):
    """The learner, logged in; URLs of the project page and its run management page."""
    project.visibility = Visibility.public
    session.add(project)
    session.commit()
    client = login_as(learner)
    base = f"/u/lena/{project.slug}"
    return client, base, f"{base}/runs"


def post(client, url: str, data: dict, *, prefix: str = "", page: str = "/settings/wandb"):
    """POST a form with a CSRF token read from a page, as a browser would."""
    name = f"{prefix}-csrf_token" if prefix else "csrf_token"
    return client.post(url, data={**data, name: csrf_token(client, page)})


def link_count(session) -> int:
    """Return how many run links exist."""
    return session.exec(select(func.count()).select_from(RunLink)).one()


def test_link_sync_and_show(pages, wandb_app, session, fake_wandb: FakeWandb) -> None:
    """Paste a URL, see "queued", let the job run, see "synced" and the results, escaped."""
    client, project_url, manage = pages
    add_run(fake_wandb)
    response = post(
        client, f"{manage}/link",
        {"run-ref": f"{fake_wandb.url}/learner/mnist/runs/abc123", "run-label": ""},
        prefix="run", page=manage,
    )  # fmt: skip
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert "Linked learner/mnist/abc123" in page and ">queued<" in page
    assert jobs.sync_due_runs(wandb_app) == {"synced": 1}
    page = client.get(manage).get_data(as_text=True)
    assert "synced just now" in page
    assert "&lt;img src=x" in page and "<img src=x" not in page  # escaped, never markup
    member_view = client.get(project_url).get_data(as_text=True)
    assert "Runs <span" in member_view and "synced just now" in member_view
    client.post("/logout", data={"csrf_token": csrf_token(client, project_url)})
    public = client.get(project_url).get_data(as_text=True)
    assert "Results" in public and "acc" in public and "&lt;img src=x" in public
    assert "synced just now" not in public and "Link and manage runs" not in public
    every_setting = client.get(f"{project_url}?config=all").get_data(as_text=True)
    assert "&lt;b&gt;x&lt;/b&gt;" in every_setting and "<b>x</b>" not in every_setting
    assert "&lt;i&gt;y&lt;/i&gt;" in every_setting


def test_errors_show_to_members_and_keep_the_results(
    pages, wandb_app, session, fake_wandb: FakeWandb
) -> None:
    """A failing sync says why in plain words and when it tries again; results stay."""
    client, project_url, manage = pages
    add_run(fake_wandb)
    post(client, f"{manage}/link", {"run-ref": "learner/mnist/abc123"}, prefix="run", page=manage)
    jobs.sync_due_runs(wandb_app)
    fake_wandb.fail("run_null", operations={"Run"})
    link = session.exec(select(RunLink)).one()
    response = post(client, f"{manage}/{link.id}/sync", {}, page=manage)
    assert response.status_code == 303 and response.location.endswith(manage)
    assert jobs.sync_due_runs(wandb_app) == {"error": 1}
    page = client.get(manage).get_data(as_text=True)
    assert "W&amp;B says this run does not exist" in page and "Next try at" in page
    assert "Results" in client.get(project_url).get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"run-ref": "https://evil.example.com/a/b/runs/c"}, "not W&amp;B"),
        ({"run-ref": ""}, "Paste a W&amp;B run link"),
        ({"run-ref": "learner/mnist/abc123", "run-label": "x" * 10_000}, "120"),
        ({"run-ref": "learner/mnist/missing"}, "does not exist"),
    ],
)
def test_bad_input_is_a_422_and_saves_nothing(
    pages, session, fake_wandb: FakeWandb, data: dict, message: str
) -> None:
    """Malformed, foreign, empty, too long or unknown: the reason on the form, no row."""
    client, _, manage = pages
    add_run(fake_wandb)
    response = post(client, f"{manage}/link", data, prefix="run", page=manage)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert link_count(session) == 0


def test_csrf_and_membership_are_enforced(
    pages, session, make_user, fake_wandb: FakeWandb, client
) -> None:
    """No token: 400. Strangers: 403 on a public project. Anonymous: sent to log in."""
    client, _, manage = pages
    add_run(fake_wandb)
    response = client.post(f"{manage}/link", data={"run-ref": "learner/mnist/abc123"})
    assert response.status_code == 400 and link_count(session) == 0
    upload = client.post(f"{manage}/upload", data={"upload-archive": (io.BytesIO(b"x"), "a.zip")})
    assert upload.status_code == 400
    client.post("/logout", data={"csrf_token": csrf_token(client, manage)})
    assert client.get(manage).status_code == 302
    stranger = make_user("stranger")
    from tests.conftest import login

    login(client, stranger)
    assert client.get(manage).status_code == 403
    response = post(client, f"{manage}/link", {"run-ref": "learner/mnist/abc123"}, prefix="run")
    assert response.status_code == 403 and link_count(session) == 0


def test_follow_edit_hide_and_unlink(pages, wandb_app, session, fake_wandb: FakeWandb) -> None:
    """Follow a project by tag, label and hide a found run, unlink the project link."""
    client, project_url, manage = pages
    add_run(fake_wandb, "r1", tags=["portfolio"], display_name="first run")
    add_run(fake_wandb, "r2", tags=["portfolio"], display_name="second run")
    response = post(
        client, f"{manage}/follow",
        {"project-ref": f"{fake_wandb.url}/learner/mnist", "project-tags": "portfolio"},
        prefix="project", page=manage,
    )  # fmt: skip
    assert response.status_code == 303
    assert jobs.sync_due_runs(wandb_app) == {"synced": 3}
    public = client.get(project_url).get_data(as_text=True)
    assert "first run" in public and "second run" in public
    child = session.exec(select(RunLink).where(RunLink.ref == "learner/mnist/r2")).one()
    prefix = f"edit{child.id}"
    response = post(
        client, f"{manage}/{child.id}/edit",
        {f"{prefix}-label": "Best <b>run</b>", f"{prefix}-hidden": "y"}, prefix=prefix,
        page=manage,
    )  # fmt: skip
    assert response.status_code == 303
    page = client.get(manage).get_data(as_text=True)
    assert "Best &lt;b&gt;run&lt;/b&gt;" in page
    client.post("/logout", data={"csrf_token": csrf_token(client, manage)})
    public = client.get(project_url).get_data(as_text=True)
    assert "first run" in public and "second run" not in public and "Best" not in public


def test_unlink_child_is_refused_and_parent_unlink_removes_all(
    pages, wandb_app, session, fake_wandb: FakeWandb
) -> None:
    """A found run cannot be unlinked alone; unlinking its project link removes both."""
    client, _, manage = pages
    add_run(fake_wandb, "r1", tags=["portfolio"])
    post(
        client, f"{manage}/follow", {"project-ref": "learner/mnist", "project-tags": "portfolio"},
        prefix="project", page=manage,
    )  # fmt: skip
    jobs.sync_due_runs(wandb_app)
    parent, child = session.exec(select(RunLink).order_by(RunLink.id)).all()
    response = post(client, f"{manage}/{child.id}/unlink", {}, page=manage)
    assert response.status_code == 422 and "comes from a project link" in response.get_data(
        as_text=True
    )
    response = post(client, f"{manage}/{parent.id}/unlink", {}, page=manage)
    assert response.status_code == 303 and link_count(session) == 0


def test_upload_offline_run(pages, wandb_app, session, offline_run: OfflineRun) -> None:
    """A zip is queued (not imported in the request); the job imports it and the page says so.

    A file that is not a zip is a 422 with the reason and nothing is queued.
    """
    client, project_url, manage = pages
    token = csrf_token(client, manage)
    bad = client.post(
        f"{manage}/upload",
        data={"upload-csrf_token": token, "upload-archive": (io.BytesIO(b"PK nope"), "run.zip")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "not a readable .zip" in bad.get_data(as_text=True)
    assert session.exec(select(func.count()).select_from(OfflineImport)).one() == 0
    assert session.exec(select(func.count()).select_from(StoredBlob)).one() == 0
    good = client.post(
        f"{manage}/upload",
        data={
            "upload-csrf_token": token,
            "upload-archive": (zip_of_run(offline_run), "offline-run.zip"),
            "upload-label": "Lab run",
        },
        content_type="multipart/form-data",
    )
    assert good.status_code == 303
    job = session.exec(select(OfflineImport)).one()
    assert job.state == ImportState.queued and job.filename == "offline-run.zip"
    assert link_count(session) == 0
    page = client.get(manage).get_data(as_text=True)
    assert "importing…" in page and "offline-run.zip" in page

    assert jobs.import_offline_runs(wandb_app) == {"done": 1}
    created = session.exec(select(RunLink)).one()
    assert created.provider == "wandb-offline" and created.sync_state == SyncState.synced
    assert "Lab run" in client.get(project_url).get_data(as_text=True)
    page = client.get(manage).get_data(as_text=True)
    assert "importing…" not in page and f"imported</span> as <code>{created.ref}</code>" in page


def test_upload_limit_is_enforced(pages, wandb_app, session) -> None:
    """Bodies beyond WANDB_UPLOAD_MAX_BYTES (plus form overhead) are refused with 413."""
    client, _, manage = pages
    wandb_app.config["WANDB_UPLOAD_MAX_BYTES"] = 1000
    token = csrf_token(client, manage)
    # a hand-made body: the test client would spool a big generated one to an unclosed file
    body = (
        b'--b\r\nContent-Disposition: form-data; name="upload-csrf_token"\r\n\r\n'
        + token.encode()
        + b'\r\n--b\r\nContent-Disposition: form-data; name="upload-archive"; '
        b'filename="a.zip"\r\n\r\n' + bytes(2 << 20) + b"\r\n--b--\r\n"
    )
    response = client.post(
        f"{manage}/upload", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert response.status_code == 413 and link_count(session) == 0
    assert "Too large" in response.get_data(as_text=True)


def test_settings_page_saves_shows_last4_and_deletes(pages, session, fake_wandb: FakeWandb) -> None:
    """The key is saved encrypted, shown as its last 4 characters only, and deletable."""
    client, _, _ = pages
    page = client.get("/settings/wandb")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "W&amp;B key" in page.get_data(as_text=True)
    wrong = post(client, "/settings/wandb", {"base_url": fake_wandb.url, "api_key": "w" * 40})
    assert wrong.status_code == 422 and "w" * 40 not in wrong.get_data(as_text=True)
    assert "did not accept" in wrong.get_data(as_text=True)
    saved = post(client, "/settings/wandb", {"base_url": fake_wandb.url, "api_key": TEST_KEY})
    assert saved.status_code == 303
    page = client.get("/settings/wandb").get_data(as_text=True)
    assert f"…{TEST_KEY[-4:]}" in page and TEST_KEY not in page
    credential = session.exec(select(TrackingCredential)).one()
    response = post(client, f"/settings/wandb/{credential.id}/delete", {})
    assert response.status_code == 303
    assert session.exec(select(func.count()).select_from(TrackingCredential)).one() == 0


def test_follow_says_how_many_runs_match_and_the_tag_is_edited_in_place(
    pages, wandb_app, session, fake_wandb: FakeWandb
) -> None:
    """ "0 runs carry the tag …" at once and after a sync; a new tag needs no unlink."""
    client, _, manage = pages
    add_run(fake_wandb, "r1", tags=["best"], display_name="first run")
    response = post(
        client, f"{manage}/follow", {"project-ref": "learner/mnist", "project-tags": "portfolio"},
        prefix="project", page=manage,
    )  # fmt: skip
    assert response.status_code == 303
    page = client.get(manage).get_data(as_text=True)
    assert "0 runs carry the tag portfolio in learner/mnist right now" in page  # the flash
    assert jobs.sync_due_runs(wandb_app) == {"synced": 1}
    page = client.get(manage).get_data(as_text=True)
    assert "0 runs carry the tag portfolio in learner/mnist (last sync)." in page
    parent = session.exec(select(RunLink)).one()
    prefix = f"edit{parent.id}"
    assert f'name="{prefix}-tags"' in page and 'value="portfolio"' in page

    too_many = ", ".join(f"t{i}" for i in range(11))
    response = post(
        client, f"{manage}/{parent.id}/edit", {f"{prefix}-tags": too_many}, prefix=prefix,
        page=manage,
    )  # fmt: skip
    assert response.status_code == 422 and "at most 10 tags" in response.get_data(as_text=True)
    session.refresh(parent)
    assert parent.tag_filter == "portfolio" and parent.sync_state == SyncState.synced

    response = post(
        client, f"{manage}/{parent.id}/edit", {f"{prefix}-label": "x"}, prefix=prefix,
        page=manage,
    )  # fmt: skip
    session.refresh(parent)
    assert response.status_code == 303 and parent.tag_filter == "portfolio"  # field absent

    response = post(
        client, f"{manage}/{parent.id}/edit", {f"{prefix}-tags": " best , <b>x</b>"},
        prefix=prefix, page=manage,
    )  # fmt: skip
    assert response.status_code == 303
    session.refresh(parent)
    assert parent.tag_filter == "best,<b>x</b>" and parent.sync_state == SyncState.queued
    assert parent.matched_runs is None
    assert jobs.sync_due_runs(wandb_app) == {"synced": 2}  # the listing, then the found run
    page = client.get(manage).get_data(as_text=True)
    assert "1 run carries one of the tags best or &lt;b&gt;x&lt;/b&gt; in learner/mnist" in page
    assert "<b>x</b>" not in page and "first run" in page
