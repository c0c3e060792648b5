"""Bad input: a clear 4xx, nothing written, never a 500; XSS comes out escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from sqlmodel import select

from portfolio.models import Update, User, Visibility

from .conftest import comment, last_comment, post


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "cannot be empty"),
        ("   \n\t  ", "cannot be empty"),
        ("\u200b\u200b", "cannot be empty"),
        ("x" * 5001, "at most 5,000 characters"),
    ],
)
def test_empty_and_over_long_comments(world, body: str, message: str) -> None:
    response = comment(world, world.client(world.pete), body)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert world.comments() == []


def test_empty_and_over_long_updates(world) -> None:
    maya = world.client(world.maya)
    for body in ("", "y" * 20_001):
        assert post(maya, f"{world.url}/updates", {"body": body}).status_code == 422
    world.session.expire_all()
    assert world.session.exec(select(Update)).all() == []


@pytest.mark.parametrize(
    "fields",
    [
        {"parent_id": "abc"},
        {"parent_id": "-1"},
        {"parent_id": "99999999999999999999"},
        {"update_id": "1e3"},
        {"update_id": "\u00b2"},  # a Unicode digit that int() refuses
        {"parent_id": "\u0661"},  # Arabic-Indic one, which int() would accept
    ],
)
def test_malformed_targets_are_422(world, fields) -> None:
    response = comment(world, world.client(world.pete), "Hi", **fields)
    assert response.status_code == 422
    assert "is not valid" in response.get_data(as_text=True)
    assert world.comments() == []


def test_targets_of_another_project_are_404(world, session, make_project) -> None:
    other = make_project(session.get(User, world.maya.id), title="Second", allow_second=True)
    other.visibility = Visibility.public
    session.add(other)
    session.commit()
    other_url = f"/u/maya/{other.slug}"
    pete = world.client(world.pete)
    post(pete, f"{other_url}/comments", {"body": "On the other project"})
    foreign = last_comment(world)
    assert comment(world, pete, "Cross", parent_id=foreign.id).status_code == 404
    assert comment(world, pete, "Missing", update_id="424242").status_code == 404
    assert comment(world, pete, "Missing", parent_id="424242").status_code == 404
    assert len(world.comments()) == 1
    assert post(pete, f"{world.url}/comments/{foreign.id}/delete").status_code == 404


def test_posts_without_csrf_token_are_400_and_write_nothing(world) -> None:
    comment(world, world.client(world.pete), "Target")
    c = last_comment(world)
    maya, admin = world.client(world.maya), world.client(world.ada)
    cases = [
        (maya, f"{world.url}/comments", {"body": "no token"}),
        (maya, f"{world.url}/updates", {"body": "no token"}),
        (maya, f"{world.url}/comment-policy", {"comment_policy": "mentors"}),
        (maya, f"{world.url}/comments/{c.id}/hide", {}),
        (maya, f"{world.url}/comments/{c.id}/report", {"reason": "x"}),
        (world.client(world.pete), f"{world.url}/comments/{c.id}/edit", {"body": "edited"}),
        (world.client(world.pete), f"{world.url}/comments/{c.id}/delete", {}),
        (admin, f"/admin/comments/{c.id}/remove", {}),
        (admin, f"/admin/users/{world.pete.id}/suspend", {}),
    ]
    for client, path, data in cases:
        response = post(client, path, data, csrf=False)
        assert response.status_code == 400, path
        assert "This form expired" in response.get_data(as_text=True)
    c = world.refresh(c)
    assert [x.body_md for x in world.comments()] == ["Target"]
    assert c.hidden_at is None and c.deleted_at is None and c.edited_at is None
    assert world.refresh(world.project).comment_policy == "cohort"
    assert world.refresh(world.pete).suspended_at is None


XSS = [
    '<script>alert("x")</script>',
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">a</a>',
    "![x](data:text/html;base64,PHNjcmlwdD4=)",
    '<svg onload="alert(1)">',
]


@pytest.mark.parametrize("payload", XSS)
def test_xss_in_bodies_is_escaped(world, payload: str) -> None:
    assert comment(world, world.client(world.pete), payload).status_code == 303
    maya = world.client(world.maya)
    post(maya, f"{world.url}/updates", {"body": payload})
    for client in (world.client(), maya):
        assert unsafe_markup(client.get(world.url).get_data(as_text=True)) == [], payload


class _Audit(HTMLParser):
    """Collect what a browser would execute: script tags, handlers, script URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        src = dict(attrs).get("src") or ""
        if tag == "script" and not src.startswith("/"):  # ours are all same-site files
            self.found.append(f"<script src={src[:20]!r}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"{tag} {name}")
            if name in ("href", "src") and value.startswith(("javascript:", "data:")):
                self.found.append(f"{tag} {name}={value[:20]}")


def unsafe_markup(html: str) -> list[str]:
    audit = _Audit()
    audit.feed(html)
    return audit.found


def test_xss_in_display_names_is_escaped_everywhere(world, session) -> None:
    pete = session.get(User, world.pete.id)
    pete.display_name = '<script>alert("pete")</script>'
    session.add(pete)
    maya = session.get(User, world.maya.id)
    maya.display_name = "<b>Maya</b> & co"
    session.add(maya)
    session.commit()
    comment(world, world.client(world.pete), "hello @maya")
    post(
        world.client(world.maya), f"{world.url}/updates", {"body": "An update", "ask_feedback": "y"}
    )
    for client, path in (
        (world.client(), world.url),
        (world.client(world.maya), "/notifications"),
        (world.client(world.mira), "/mentor"),
        (world.client(), f"{world.url}/comments/{last_comment(world).id}"),
    ):
        html = client.get(path).get_data(as_text=True)
        assert '<script>alert("pete")' not in html and "<b>Maya</b>" not in html, path
    feed = world.client().get("/u/maya/feed.atom")
    ET.fromstring(feed.data)  # still well-formed XML
    assert b"<b>Maya</b>" not in feed.data


def test_nul_bytes_and_odd_unicode_never_500(world) -> None:
    pete = world.client(world.pete)
    for body in ("a\x00b", "\U0001f600 emoji", "\u202eRTL override", "@" * 300, "[" * 2000):
        response = comment(world, pete, body)
        assert response.status_code < 500, body
    assert "a\x00b" not in [c.body_md for c in world.comments()]
    assert "ab" in [c.body_md for c in world.comments()]
    assert world.client().get(world.url).status_code == 200


def test_unknown_ids_in_urls_are_404(world) -> None:
    pete = world.client(world.pete)
    for path in (
        f"{world.url}/comments/0/delete",
        f"{world.url}/comments/2147483647/hide",
        f"{world.url}/updates/2147483647/feedback",
        f"{world.url}/updates/5/feedback/any-mentor",
    ):
        assert post(pete, path).status_code == 404, path
    assert post(pete, f"{world.url}/comments/99999999999/delete").status_code == 404
    assert pete.get("/u/maya/no-such-project/discussion").status_code == 404
    assert pete.get(f"{world.url}/discussion?page=abc").status_code == 200


def test_the_audit_catches_live_markup() -> None:
    """The XSS checks above would notice a handler, a script URL or an inline script."""
    html = (
        '<a href="javascript:x">a</a><img src=x onerror=y><script>z</script><p>&lt;script&gt;</p>'
    )
    assert unsafe_markup(html) == ["a href=javascript:x", "img onerror", "<script src=''>"]


def test_next_only_redirects_within_the_site(world) -> None:
    pete = world.client(world.pete)
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = comment(world, pete, "Hi", next=target)
        assert response.status_code == 303
        assert response.headers["Location"].startswith(f"{world.url}#comment-"), target
