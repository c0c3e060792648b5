"""/readyz checks the database, Redis when configured and the scheduler's heartbeat."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest

from portfolio.models import SchedulerProcess, utcnow


def beat(session, *, ago: timedelta, pid: int = 1, role: str = "active") -> None:
    session.add(
        SchedulerProcess(id=f"host:{pid}", host="host", pid=pid, role=role, beat_at=utcnow() - ago)
    )
    session.commit()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ready_when_the_scheduler_beat_recently(client, session) -> None:
    """Database up, no Redis configured, a heartbeat a minute ago: 200."""
    beat(session, ago=timedelta(minutes=1))
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok" and body["failed"] == []
    assert body["database"] == "ok" and body["redis"] == "not configured"
    assert body["scheduler"] == "ok" and body["scheduler_last_beat"]


def test_stale_heartbeat_is_503_naming_the_scheduler(client, session) -> None:
    """The last beat is 11 minutes old (the bound is 10): 503, the scheduler named."""
    beat(session, ago=timedelta(minutes=11))
    beat(session, ago=timedelta(minutes=30), pid=2, role="standby")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["scheduler"] and body["scheduler"].startswith("stale")
    assert body["database"] == "ok"


def test_never_seen_scheduler_is_503(client) -> None:
    """No scheduler ever beat: not ready."""
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["scheduler"] == "never seen"


def test_checks_can_be_limited_for_a_load_balancer(client) -> None:
    """?checks=database,redis ignores the scheduler; an unknown check is a 400."""
    assert client.get("/readyz?checks=database,redis").status_code == 200
    assert client.get("/readyz?checks=database,disk").status_code == 400
    assert client.get("/readyz?checks=").status_code == 400


def test_redis_checked_when_configured(app, client, session) -> None:
    """REDIS_URL set: a live Redis is ok, a dead one makes /readyz 503 naming redis."""
    beat(session, ago=timedelta(seconds=5))
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    response = client.get("/readyz")
    if response.get_json()["redis"] != "ok":
        pytest.skip("no Redis on 127.0.0.1:6379")
    assert response.status_code == 200
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["redis"] == "unreachable"
    assert response.get_json()["failed"] == ["redis"]
