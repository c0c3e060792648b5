"""Parsing pasted MLflow links and server addresses (pure: no server needed)."""

from __future__ import annotations

import pytest

from portfolio.tracking.mlflow_refs import parse_mlflow_ref, run_url, validate_server_url
from portfolio.tracking.provider import InvalidReference

SERVER = "http://127.0.0.1:5000"
RUN = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("text", "servers", "expected"),
    [
        (f"{SERVER}/#/experiments/3/runs/{RUN}", [SERVER], ("3", RUN, SERVER)),
        (f"{SERVER}/#/experiments/3/runs/{RUN}/model-metrics", [SERVER], ("3", RUN, SERVER)),
        (f"{SERVER}/#/experiments/3/runs/{RUN}/artifacts/a/b.txt", [SERVER], ("3", RUN, SERVER)),
        (
            f"{SERVER.upper().replace('HTTP', 'http')}/#/experiments/3/runs/{RUN}",
            [SERVER],
            ("3", RUN, SERVER),
        ),
        (
            "https://ex.org/mlflow/#/experiments/7/runs/r1",
            ["https://ex.org/mlflow"],
            ("7", "r1", "https://ex.org/mlflow"),
        ),
        (
            "https://dbc.example.net/ml/experiments/12/runs/r-2?o=1",
            ["https://dbc.example.net"],
            ("12", "r-2", "https://dbc.example.net"),
        ),
        (f"3/{RUN}", [SERVER], ("3", RUN, None)),
        (f" 3/{RUN}/ ", [], ("3", RUN, None)),
    ],
)
def test_run_links(text: str, servers: list[str], expected: tuple) -> None:
    ref = parse_mlflow_ref(text, servers=servers, kind="run")
    assert (ref.experiment_id, ref.run_id, ref.server) == expected
    assert ref.path == f"{expected[0]}/{expected[1]}"


@pytest.mark.parametrize(
    "text",
    [
        f"{SERVER}/#/experiments/3",
        f"{SERVER}/#/experiments/3?searchFilter=x",
        f"{SERVER}/#/experiments/3/runs",
        "3",
    ],
)
def test_experiment_links(text: str) -> None:
    ref = parse_mlflow_ref(text, servers=[SERVER], kind="experiment")
    assert ref.path == "3" and not ref.is_run


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("", "run", "Paste an MLflow run link"),
        (f"http://other:5000/#/experiments/3/runs/{RUN}", "run", "not one of your saved"),
        (f"{SERVER}/#/models/x", "run", "not an MLflow run or experiment"),
        (f"{SERVER}/#/experiments/3", "run", "not a run"),
        (f"{SERVER}/#/experiments/3/runs/{RUN}", "experiment", "single run"),
        ("ftp://127.0.0.1/#/experiments/3", "experiment", "Only web links"),
        (f"http://u:p@127.0.0.1:5000/#/experiments/3/runs/{RUN}", "run", "user name or password"),
        ("abc/def", "run", "not an MLflow experiment id"),
        ("3/<b>", "run", "not an MLflow run id"),
        ("3/" + "a" * 65, "run", "at most 64"),
        ("1/2/3", "run", "experiment_id/run_id"),
        ("3/a b", "run", "no spaces"),
        ("3/" + "a" * 3000, "run", "too long"),
    ],
)
def test_bad_links(text: str, kind: str, message: str) -> None:
    with pytest.raises(InvalidReference, match=message):
        parse_mlflow_ref(text, servers=[SERVER], kind=kind)  # type: ignore[arg-type]


def test_server_addresses() -> None:
    assert validate_server_url(" http://127.0.0.1:5000/ ") == SERVER
    assert validate_server_url("https://ex.org/mlflow/") == "https://ex.org/mlflow"
    for bad in ("", "ex.org", "ftp://ex.org", "http://u:p@ex.org", "http://ex.org/#/experiments/1",
                "http://ex.org/?x=1", "http://ex.org:99999", "javascript:alert(1)"):  # fmt: skip
        with pytest.raises(InvalidReference):
            validate_server_url(bad)
    assert run_url(SERVER, "3", RUN) == f"{SERVER}/#/experiments/3/runs/{RUN}"
