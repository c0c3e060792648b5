"""Profile extras: avatar (image rules, square, metadata gone), links and "looking for"."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from sqlmodel import select

from portfolio.auth import deletion
from portfolio.auth.profile import avatar_key
from portfolio.models import User
from portfolio.models.storage import StoredBlob
from portfolio.storage import StorageNotFound, get_storage
from tests.conftest import TEST_PASSWORD, csrf_token, login

PROFILE = "/settings/profile"


def _jpeg_with_exif(size=(800, 500)) -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "GPS 52.52N 13.40E secret camera"  # ImageDescription
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _save_profile(client, user: User, **extra: str):
    data = {
        "display_name": user.display_name,
        "handle": user.handle,
        "timezone": "UTC",
        "bio": "",
        "looking_for": "",
        "github_url": "",
        "linkedin_url": "",
        "website_url": "",
        "csrf_token": csrf_token(client, PROFILE),
    }
    data.update(extra)
    return client.post(PROFILE, data=data)


def _upload(client, data: bytes, name: str):
    return client.post(
        "/settings/profile/avatar",
        data={"image": (io.BytesIO(data), name), "csrf_token": csrf_token(client, PROFILE)},
        content_type="multipart/form-data",
    )


def test_links_and_looking_for_show_on_the_profile_with_their_host(client, session, make_user):
    """Saved links appear with rel="me noopener" and their host; the line appears too."""
    maya = make_user("maya")
    login(client, maya)
    response = _save_profile(
        client,
        maya,
        looking_for="Junior ML roles,\nBerlin or remote",
        github_url="https://github.com/maya",
        linkedin_url="https://www.linkedin.com/in/maya",
        website_url="http://maya.example.org/about",
    )
    assert response.status_code == 302
    html = client.get("/u/maya").get_data(as_text=True)
    assert "Looking for: Junior ML roles, Berlin or remote" in html
    assert '<a href="https://github.com/maya" rel="me noopener">GitHub</a>' in html
    assert '<span class="host">github.com</span>' in html
    assert '<span class="host">linkedin.com</span>' in html
    assert '<span class="host">maya.example.org</span>' in html


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("github_url", "javascript:alert(1)"),
        ("github_url", "ftp://github.com/maya"),
        ("linkedin_url", "linkedin.com/in/maya"),
        ("website_url", "https://github.com@evil.example"),
        ("website_url", "https://exa mple.org"),
        ("website_url", "https://example.org:port/"),
        ("website_url", "https://" + "a" * 300 + ".org"),
        ("looking_for", "x" * 141),
        ("looking_for", "bad\x00byte"),
    ],
)
def test_bad_profile_values_are_refused_and_change_nothing(
    client, session, make_user, field, value
):
    """Only http(s) links with a host; a clear 422 and nothing written."""
    maya = make_user("maya")
    login(client, maya)
    response = _save_profile(client, maya, display_name="New Name", **{field: value})
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    session.expire_all()
    stored = session.get(User, maya.id)
    assert stored.display_name == maya.display_name
    assert (stored.github_url, stored.linkedin_url, stored.website_url) == ("", "", "")
    assert stored.looking_for == ""


def test_avatar_is_reencoded_squared_stripped_and_served(app, client, session, make_user):
    """A JPEG with EXIF becomes a 256 px square JPEG without metadata, served publicly."""
    maya = make_user("maya")
    login(client, maya)
    assert _upload(client, _jpeg_with_exif(), "me.jpg").status_code == 303
    session.expire_all()
    name = session.get(User, maya.id).avatar
    assert name and name.endswith(".jpg")
    profile = client.get("/u/maya").get_data(as_text=True)
    assert f'src="/avatars/maya/{name}"' in profile
    served = app.test_client().get(f"/avatars/maya/{name}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (256, 256)
    assert not image.getexif() and b"secret camera" not in served.data
    again = app.test_client().get(f"/avatars/maya/{name}", headers={"If-None-Match": name})
    assert again.status_code == 304


def test_replacing_and_removing_the_avatar_deletes_the_old_bytes(app, client, session, make_user):
    """The old photo's stored object goes when a new one is saved, and on removal."""
    maya = make_user("maya")
    login(client, maya)
    out = io.BytesIO()
    Image.new("RGBA", (100, 60), (0, 0, 0, 0)).save(out, format="PNG")
    assert _upload(client, out.getvalue(), "a.png").status_code == 303
    session.expire_all()
    first = session.get(User, maya.id).avatar
    assert _upload(client, _jpeg_with_exif((300, 300)), "b.jpg").status_code == 303
    session.expire_all()
    second = session.get(User, maya.id).avatar
    assert second != first
    assert client.get(f"/avatars/maya/{first}").status_code == 404
    with app.app_context(), pytest.raises(StorageNotFound):
        get_storage().get(avatar_key(first))
    client.post("/settings/profile/avatar/delete", data={"csrf_token": csrf_token(client, PROFILE)})
    session.expire_all()
    assert session.get(User, maya.id).avatar is None
    assert client.get(f"/avatars/maya/{second}").status_code == 404
    with app.app_context(), pytest.raises(StorageNotFound):
        get_storage().get(avatar_key(second))


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "a.svg"),
        (b"GIF89a not really", "a.gif"),
        (b"", "empty.png"),
        (b"%PDF-1.4 hello", "cv.pdf"),
    ],
)
def test_bad_avatar_uploads_are_refused_and_write_nothing(
    app, client, session, make_user, data, name
):
    """SVG and anything Pillow cannot read: 422 with a message, no avatar, no stored object."""
    maya = make_user("maya")
    login(client, maya)
    response = _upload(client, data, name)
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, maya.id).avatar is None
    assert session.exec(select(StoredBlob)).all() == []


def test_export_and_deletion_cover_the_profile_extras(app, client, session, make_user):
    """The download has the links, line and avatar; deleting the account deletes the photo."""
    maya = make_user("maya")
    login(client, maya)
    _save_profile(client, maya, looking_for="Data roles", github_url="https://github.com/maya")
    _upload(client, _jpeg_with_exif((64, 64)), "me.jpg")
    data = client.get("/settings/data.json").get_json()
    session.expire_all()
    name = session.get(User, maya.id).avatar
    assert data["profile"]["github_url"] == "https://github.com/maya"
    assert data["profile"]["looking_for"] == "Data roles"
    assert data["profile"]["avatar"] == name
    assert "password_hash" not in json.dumps(data)
    response = client.post(
        "/settings/delete",
        data={
            "password": TEST_PASSWORD,
            "confirm_handle": "maya",
            "csrf_token": csrf_token(client, "/settings/delete"),
        },
    )
    assert response.status_code in (302, 303)
    session.expire_all()
    assert session.get(User, maya.id) is None
    with app.app_context(), pytest.raises(StorageNotFound):
        get_storage().get(avatar_key(name))
    assert app.test_client().get(f"/avatars/maya/{name}").status_code == 404
    assert deletion.PLACEHOLDER_HANDLE != "maya"
