"""What the client does on the learner's machine alone: folders, zips, settings, exit codes.

No Seasons server is involved (tests/api/test_client.py covers the client against the
real app); only the standard library and the client's own sources are imported.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import stat
import warnings
import zipfile
from pathlib import Path

import pytest
import seasons_client
from seasons_client import SeasonsError, SeasonsWarning, upload_run
from seasons_client._api import config_path, save_config, settings
from seasons_client._runs import offline_run_file, zip_run
from seasons_client.cli import main

PACKAGE_DIR = Path(seasons_client.__file__).parent
SOURCES = [*sorted(PACKAGE_DIR.glob("*.py")), PACKAGE_DIR.parent / "seasons_build.py"]


@pytest.fixture(autouse=True)
def _no_login(tmp_path, monkeypatch):
    """Each test has its own config dir and no SEASONS_* settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("SEASONS_URL", raising=False)
    monkeypatch.delenv("SEASONS_TOKEN", raising=False)


def closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def run_folder(root: Path, run_id: str = "abc123", data: bytes = b":W&B\x00data") -> Path:
    folder = root / f"offline-run-20260101_000000-{run_id}"
    (folder / "files").mkdir(parents=True)
    (folder / f"run-{run_id}.wandb").write_bytes(data)
    (folder / "files" / "output.log").write_text("big log, not uploaded")
    return folder


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_sources_parse_as_python_3_9(path: Path):
    """The client installs on Python 3.9: no newer syntax, annotations never evaluated."""
    text = path.read_text(encoding="utf-8")
    ast.parse(text, feature_version=(3, 9))
    assert "from __future__ import annotations" in text or path.name == "__init__.py"


def test_a_run_folder_is_zipped_with_its_run_file_only(tmp_path):
    folder = run_folder(tmp_path)
    run_file = offline_run_file(folder)
    out = tmp_path / "run.zip"
    with out.open("wb") as fh:
        assert zip_run(run_file, fh) == out.stat().st_size
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == [f"{folder.name}/run-abc123.wandb"]
        assert archive.read(archive.namelist()[0]) == b":W&B\x00data"


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda root: root / "missing", "is not a folder"),
        (lambda root: root, "holds 0"),
        (lambda root: run_folder(root) / "files", "holds 0"),
    ],
)
def test_what_is_not_an_offline_run_folder_is_refused(tmp_path, make, words):
    with pytest.raises(SeasonsError, match=words):
        offline_run_file(make(tmp_path))


def test_two_run_files_in_one_folder_are_refused(tmp_path):
    folder = run_folder(tmp_path)
    (folder / "run-other.wandb").write_bytes(b"x")
    with pytest.raises(SeasonsError, match="holds 2"):
        offline_run_file(folder)


def test_login_is_stored_for_the_user_alone(tmp_path, monkeypatch):
    """The token file is 0600; the environment wins over it."""
    path = save_config("https://seasons.example.org", "secret")
    assert path == config_path() and path.is_relative_to(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["token"] == "secret"
    assert settings() == ("https://seasons.example.org", "secret")
    monkeypatch.setenv("SEASONS_TOKEN", "from-env")
    assert settings() == ("https://seasons.example.org", "from-env")


@pytest.mark.parametrize(
    ("url", "token", "words"),
    [("", "t", "SEASONS_URL"), ("seasons.example.org", "t", "not a web address"),
     ("https://s.example.org", "", "SEASONS_TOKEN")],
)  # fmt: skip
def test_missing_or_wrong_settings_say_what_to_set(url, token, words):
    with pytest.raises(SeasonsError, match=words):
        settings(url, token)


def test_upload_run_warns_once_and_returns_none(tmp_path):
    """A server that is down: one SeasonsWarning, no exception."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert upload_run(run_folder(tmp_path), project="p", url=closed_url(), token="t") is None
    assert [w.category for w in caught] == [SeasonsWarning]
    assert "could not reach Seasons" in str(caught[0].message)


def test_cli_usage_errors_exit_2(capsys):
    for argv in ([], ["push", "--project", "p"], ["frobnicate"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
    assert "usage: seasons" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["status", "p"], ["push", "somewhere", "--project", "p"], ["link", "a/b/c", "--project", "p"]],
)
def test_cli_failures_exit_1_with_the_reason(argv, capsys, monkeypatch):
    """Without a login the reason names the setting; with a dead server, the address."""
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("seasons: ") and "SEASONS_URL" in err and "Traceback" not in err
    monkeypatch.setenv("SEASONS_URL", closed_url())
    monkeypatch.setenv("SEASONS_TOKEN", "t")
    assert main(argv) == 1
    assert "could not reach Seasons" in capsys.readouterr().err
