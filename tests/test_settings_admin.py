"""Profile settings, password change, the admin user list and create-admin."""

from __future__ import annotations

from sqlmodel import select

from portfolio.models import Role, User
from tests.conftest import TEST_PASSWORD, csrf_token, login


def _profile(client, **fields):
    data = {
        "display_name": "Grace H",
        "handle": "grace-h",
        "timezone": "America/New_York",
        "bio": "Navy admiral, compiler pioneer.",
        "csrf_token": csrf_token(client, "/settings/profile"),
    }
    data.update(fields)
    return client.post("/settings/profile", data=data)


def test_profile_update(client, session, make_user, login_as):
    user = make_user("grace")
    login_as(user)
    response = _profile(client)
    assert response.status_code == 302
    stored = session.get(User, user.id)
    assert (stored.display_name, stored.handle, stored.timezone, stored.bio) == (
        "Grace H",
        "grace-h",
        "America/New_York",
        "Navy admiral, compiler pioneer.",
    )


def test_profile_bad_input_changes_nothing(client, session, make_user, login_as):
    """One bad field keeps every field as it was."""
    make_user("taken")
    user = make_user("grace")
    login_as(user)
    for fields, message in [
        ({"timezone": "Europe/Atlantis"}, "Unknown time zone"),
        ({"handle": "taken"}, "That handle is taken"),
        ({"handle": "login"}, "reserved"),
        ({"bio": "b" * 501}, "Field cannot be longer than 500"),
        ({"display_name": ""}, "This field is required"),
    ]:
        response = _profile(client, **fields)
        assert response.status_code == 422, fields
        assert message in response.get_data(as_text=True), fields
    stored = session.get(User, user.id)
    assert (stored.handle, stored.timezone, stored.bio) == ("grace", "UTC", "")


def test_change_password_logs_out_other_sessions(app, client, session, make_user, login_as):
    user = make_user("grace")
    other = app.test_client()
    login(other, user)
    login_as(user)
    new = "another horse battery staple"
    response = client.post(
        "/settings/password",
        data={
            "current": TEST_PASSWORD,
            "new": new,
            "confirm": new,
            "csrf_token": csrf_token(client, "/settings/password"),
        },
    )
    assert response.status_code == 302
    assert client.get("/settings/profile").status_code == 200  # this session stays
    assert other.get("/settings/profile").status_code == 302  # the other one is out
    fresh = app.test_client()
    assert login(fresh, user, password=new).status_code == 302


def test_change_password_bad_input(client, session, make_user, login_as):
    user = make_user("grace")
    login_as(user)
    before = session.get(User, user.id).password_hash
    for fields, message in [
        ({"current": "wrong wrong wrong"}, "current password is not right"),
        ({"new": "qwertyuiop", "confirm": "qwertyuiop"}, "too weak"),
        ({"confirm": "something else entirely"}, "two new passwords differ"),
    ]:
        data = {"current": TEST_PASSWORD, "new": "brand new battery staple"}
        data["confirm"] = data["new"]
        data.update(fields)
        data["csrf_token"] = csrf_token(client, "/settings/password")
        response = client.post("/settings/password", data=data)
        assert response.status_code == 422, fields
        assert message in response.get_data(as_text=True), fields
    session.expire_all()
    assert session.get(User, user.id).password_hash == before


def test_admin_page_is_for_admins_only(client, make_user, login_as):
    assert client.get("/admin/users").status_code == 302  # anonymous: to log in
    login_as(make_user("learner"))
    assert client.get("/admin/users").status_code == 403


def test_admin_promotes_mentor(client, session, make_user, login_as):
    admin = make_user("boss", role=Role.admin)
    learner = make_user("daniel")
    login_as(admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "@daniel" in page
    response = client.post(
        f"/admin/users/{learner.id}/role",
        data={"role": "mentor", "csrf_token": csrf_token(client, "/admin/users")},
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(User, learner.id).role == Role.mentor


def test_admin_bad_role_and_last_admin(client, session, make_user, login_as):
    admin = make_user("boss", role=Role.admin)
    login_as(admin)
    for user_id, role, status in [(admin.id, "overlord", 303), (admin.id, "learner", 302)]:
        response = client.post(
            f"/admin/users/{user_id}/role",
            data={"role": role, "csrf_token": csrf_token(client, "/admin/users")},
        )
        assert response.status_code == status
    session.expire_all()
    assert session.get(User, admin.id).role == Role.admin
    follow = client.get("/admin/users").get_data(as_text=True)
    assert "last admin cannot be demoted" in follow
    missing = client.post(
        "/admin/users/99999/role",
        data={"role": "mentor", "csrf_token": csrf_token(client, "/admin/users")},
    )
    assert missing.status_code == 302


def test_create_admin_command(runner, session):
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "Root@Example.com",
            "--handle",
            "root-user",
            "--name",
            "Root",
            "--password",
            TEST_PASSWORD,
        ],
    )
    assert result.exit_code == 0, result.output
    user = session.exec(select(User)).one()
    assert (user.email, user.role) == ("root@example.com", Role.admin)
    assert user.email_verified_at is not None  # the operator vouches for the address


def test_create_admin_refuses_bad_input(runner, session):
    result = runner.invoke(
        args=[
            "create-admin",
            "--email",
            "x@example.com",
            "--handle",
            "api",
            "--name",
            "X",
            "--password",
            TEST_PASSWORD,
        ],
    )
    assert result.exit_code != 0
    assert "reserved" in result.output
    assert session.exec(select(User)).first() is None
