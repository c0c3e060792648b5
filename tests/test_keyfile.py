"""Generated keys: concurrent first boots agree on one key; multi-host setups must set keys."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from portfolio import create_app
from portfolio.config import load_secret_key
from portfolio.keyfile import KeyFileError, load_or_create_key
from portfolio.tracking.credentials import load_credentials_key

PROCESSES = 16
ROUNDS = 10


def _boot(instance: str, barrier, results) -> None:
    """One "worker" starting at the same moment as the others: read or create both keys."""
    barrier.wait()
    try:
        results.put((load_secret_key(Path(instance)), load_credentials_key(instance)))
    except Exception as exc:  # reported to the test, which fails on it
        results.put(("error", repr(exc)))


def test_concurrent_first_boots_agree_on_one_key(tmp_path):
    """16 processes released together on an empty instance folder all read the same keys."""
    # Children fork from a single-threaded server that has already imported this module.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    for round_ in range(ROUNDS):
        instance = tmp_path / f"instance-{round_}"
        barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
        procs = [
            ctx.Process(target=_boot, args=(str(instance), barrier, results))
            for _ in range(PROCESSES)
        ]
        for proc in procs:
            proc.start()
        got = [results.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join(timeout=60)
            assert proc.exitcode == 0
        assert all(secret != "error" for secret, _ in got), got
        secrets_, credentials_ = {s for s, _ in got}, {c for _, c in got}
        assert len(secrets_) == 1 and len(credentials_) == 1, (round_, secrets_, credentials_)
        (secret,), (credential,) = secrets_, credentials_
        assert len(secret) >= 60 and len(credential) >= 60 and secret != credential
        assert (instance / "secret_key").read_text() == secret
        # Only the two keys are left: every temporary file was removed.
        assert sorted(p.name for p in instance.iterdir()) == ["credentials_key", "secret_key"]


def test_empty_or_cut_key_file_is_refused(tmp_path):
    """A key file left empty or short by an older crash is an error naming the setting."""
    path = tmp_path / "credentials_key"
    for content in ("", "   \n", "abc123"):
        path.write_text(content)
        with pytest.raises(KeyFileError, match="Set CREDENTIALS_KEY"):
            load_or_create_key(path, setting="CREDENTIALS_KEY")
    path.unlink()
    key = load_or_create_key(path, setting="CREDENTIALS_KEY")
    assert load_or_create_key(path, setting="CREDENTIALS_KEY") == key


def _start(tmp_path: Path, **settings):
    return create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": None,
            "CREDENTIALS_KEY": None,
            "TESTING": False,
            **settings,
        }
    )


def test_shared_database_without_keys_refuses_to_start(tmp_path):
    """On PostgreSQL outside debug/testing, unset SECRET_KEY or CREDENTIALS_KEY stops start-up."""
    pg = "postgresql+psycopg://seasons@db.internal/seasons"
    with pytest.raises(RuntimeError, match="Set SECRET_KEY and CREDENTIALS_KEY"):
        _start(tmp_path, DATABASE_URL=pg)
    with pytest.raises(RuntimeError, match=r"Set CREDENTIALS_KEY: with a shared database"):
        _start(tmp_path, DATABASE_URL=pg, SECRET_KEY="s" * 48)
    assert not (tmp_path / "instance" / "secret_key").exists()  # refused before generating
    both = _start(tmp_path, DATABASE_URL=pg, SECRET_KEY="s" * 48, CREDENTIALS_KEY="c" * 48)
    assert both.config["SECRET_KEY"] == "s" * 48
    both.extensions["engine"].dispose()
    debug = _start(tmp_path, DATABASE_URL=pg, DEBUG=True)  # a developer's PostgreSQL
    debug.extensions["engine"].dispose()


def test_embedded_default_still_generates_keys(tmp_path):
    """The SQLite default with no keys set starts and generates its key files."""
    app = _start(tmp_path)
    assert app.config["DATABASE_URL"].startswith("sqlite")
    assert len(app.config["SECRET_KEY"]) >= 60
    with app.app_context():
        from portfolio.tracking.credentials import fernet

        assert fernet().decrypt(fernet().encrypt(b"k")) == b"k"
    assert (tmp_path / "instance" / "credentials_key").exists()
    app.extensions["engine"].dispose()
