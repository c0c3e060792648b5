"""The MLflow provider against a real ``mlflow server`` with runs logged by the real client."""

from __future__ import annotations

import json
import math
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from portfolio.tracking.downsample import downsample_rows
from portfolio.tracking.mlflow_provider import MlflowProvider, parse_auth
from portfolio.tracking.provider import (
    InvalidReference,
    NotFound,
    TrackingError,
    Unauthorized,
    Unavailable,
    get_provider,
)

from .mlflow_fixtures import ADMIN, READER, LoggedMlflow, free_port


def provider_for(logged: LoggedMlflow, secret: str = "{}", **kwargs) -> MlflowProvider:
    """A provider on the session's server (short timeouts keep failure tests quick)."""
    return MlflowProvider(api_key=secret, base_url=logged.url, timeout=10.0, **kwargs)


def test_registry_builds_the_mlflow_provider(mlflow_logged: LoggedMlflow) -> None:
    """The shared factory knows "mlflow" and ignores the W&B-only settings it passes."""
    built = get_provider("mlflow", api_key="{}", base_url=mlflow_logged.url, data_dir="x")
    assert isinstance(built, MlflowProvider) and "token" not in repr(built)


def test_fetch_run_reads_params_metrics_tags_status_and_times(
    mlflow_logged: LoggedMlflow,
) -> None:
    """A finished run: state, times, latest metrics, params (numbers as numbers), tags."""
    ids = mlflow_logged.ids
    ref = f"{ids['experiment_id']}/{ids['baseline']}"
    run = provider_for(mlflow_logged).fetch_run(ref)
    assert run.provider == "mlflow" and run.path == ref and run.run_id == ids["baseline"]
    assert run.name == "<b>baseline</b> run"  # kept as text; templates escape it
    assert run.state == "finished" and not run.is_running
    assert run.created_at is not None and run.heartbeat_at is not None
    assert run.created_at <= run.heartbeat_at
    assert (
        run.url
        == f"{mlflow_logged.url}/#/experiments/{ids['experiment_id']}/runs/{ids['baseline']}"
    )
    assert run.summary["loss"] == pytest.approx(1 / 300) and run.summary["acc"] == pytest.approx(
        299 / 300
    )
    assert (
        run.config["lr"] == 0.01 and run.config["batch"] == 32 and run.config["optimizer"] == "adam"
    )
    assert run.config["html value"] == "<script>alert('p')</script>"
    assert set(run.history_keys) == {"loss", "acc"}
    assert "portfolio=yes" in run.tags and "note=<i>first</i>" in run.tags
    huge = next(t for t in run.tags if t.startswith("huge="))
    assert len(huge) <= len("huge=") + 200  # 5,000 characters were logged
    assert not any(t.startswith("mlflow.") for t in run.tags)


def test_history_is_complete_and_downsampled(mlflow_logged: LoggedMlflow) -> None:
    """Every logged point comes through get-history and the shared downsampling."""
    ids = mlflow_logged.ids
    ref = f"{ids['experiment_id']}/{ids['baseline']}"
    provider = provider_for(mlflow_logged)
    series = downsample_rows(provider.iter_history(ref, None), None, n_out=100)
    assert set(series) == {"loss", "acc"}
    assert series["loss"].original_count == 300 and len(series["loss"].x) <= 100
    assert series["loss"].x[0] == 0 and series["loss"].x[-1] == 299
    assert series["loss"].y.min() == pytest.approx(1 / 300)  # the best point is kept


def test_history_pages_through_a_long_metric(mlflow_logged: LoggedMlflow) -> None:
    """A metric longer than a page is read page by page, every point once."""
    ids = mlflow_logged.ids
    ref = f"{ids['experiment_id']}/{ids['many']}"
    provider = provider_for(mlflow_logged, history_page=1_000)
    rows = list(provider.iter_history(ref, ["long"]))
    assert len(rows) == ids["many_points"]
    assert sorted(step for step, _ in rows) == list(range(ids["many_points"]))
    assert rows[500][1]["long"] == float(rows[500][0] % 97)


def test_nan_and_inf_arrive_as_floats(mlflow_logged: LoggedMlflow) -> None:
    """NaN and ±inf points survive the JSON round trip as float markers."""
    ids = mlflow_logged.ids
    ref = f"{ids['experiment_id']}/{ids['nan']}"
    rows = list(provider_for(mlflow_logged).iter_history(ref, None))
    got = [v["loss"] for _, v in sorted(rows)]
    assert got[0] == 1.0 and math.isnan(got[1]) and got[3] == math.inf and got[4] == -math.inf
    series = downsample_rows(iter(rows), None)
    assert series["loss"].nonfinite == 3


def test_experiment_lists_tagged_active_runs(mlflow_logged: LoggedMlflow) -> None:
    """Following an experiment by tag finds the tagged runs, not deleted or untagged ones."""
    ids = mlflow_logged.ids
    provider = provider_for(mlflow_logged)
    tagged = provider.list_runs(ids["experiment_id"], tags=["portfolio"])
    assert {r.run_id for r in tagged} == {ids["baseline"], ids["nan"], ids["running"]}
    running = next(r for r in tagged if r.run_id == ids["running"])
    assert running.state == "running" and running.is_running
    every = {r.run_id for r in provider.list_runs(ids["experiment_id"])}
    assert ids["untagged"] in every and ids["deleted"] not in every
    assert provider.list_runs(ids["experiment_id"], tags=["portfolio=no"]) == []
    by_value = provider.list_runs(ids["experiment_id"], tags=["note=<i>first</i>"])
    assert [r.run_id for r in by_value] == [ids["baseline"]]


@pytest.mark.parametrize(
    ("which", "message"),
    [("deleted", "deleted"), ("unknown", "does not exist")],
)
def test_deleted_and_unknown_runs_are_not_found(
    mlflow_logged: LoggedMlflow, which: str, message: str
) -> None:
    """A deleted run and a run id the server does not know are NotFound, plainly worded."""
    ids = mlflow_logged.ids
    run_id = ids["deleted"] if which == "deleted" else "0" * 32
    with pytest.raises(NotFound, match=message) as caught:
        provider_for(mlflow_logged).fetch_run(f"{ids['experiment_id']}/{run_id}")
    assert not caught.value.retryable


def test_run_in_another_experiment_is_not_found(mlflow_logged: LoggedMlflow) -> None:
    """The experiment id in a link must be the run's: a mismatched pair is refused."""
    ids = mlflow_logged.ids
    with pytest.raises(NotFound, match="no run"):
        provider_for(mlflow_logged).fetch_run(f"0/{ids['baseline']}")


def test_unknown_and_deleted_experiments_are_not_found(mlflow_logged: LoggedMlflow) -> None:
    """Following an experiment that does not exist, or was deleted, is NotFound."""
    provider = provider_for(mlflow_logged)
    with pytest.raises(NotFound, match="does not exist"):
        provider.list_runs("987654")
    with pytest.raises(NotFound, match="deleted"):
        provider.list_runs(mlflow_logged.ids["deleted_experiment"])


def test_bad_references_fail_before_any_request(mlflow_logged: LoggedMlflow) -> None:
    """Refs from the database are parsed strictly too: nothing odd reaches the URL."""
    provider = provider_for(mlflow_logged)
    for ref in ("1/../../x", "abc/123", "1/a b", "1"):
        with pytest.raises(InvalidReference):
            provider.fetch_run(ref)
    with pytest.raises(InvalidReference):
        provider.iter_history("x/y", None)


def test_basic_auth_is_sent_and_refusals_are_clear(mlflow_auth_server: LoggedMlflow) -> None:
    """basic-auth server: right password reads; none or wrong is 401; no permission is 403."""
    ids = mlflow_auth_server.ids
    ref = f"{ids['experiment_id']}/{ids['baseline']}"
    admin = json.dumps({"username": ADMIN[0], "password": ADMIN[1]})
    assert provider_for(mlflow_auth_server, admin).fetch_run(ref).run_id == ids["baseline"]
    host = mlflow_auth_server.url.split("://")[1]
    for secret, status in (
        ("{}", "401"),
        ('{"username": "admin", "password": "wrong"}', "401"),
        ('{"token": "not-a-token"}', "401"),
        (json.dumps({"username": READER[0], "password": READER[1]}), "403"),
    ):
        with pytest.raises(Unauthorized) as caught:
            provider_for(mlflow_auth_server, secret).fetch_run(ref)
        assert f"HTTP {status}" in caught.value.message and host in caught.value.message
        assert "wrong" not in caught.value.message and not caught.value.retryable


def test_unreachable_server_is_retryable_and_names_the_host() -> None:
    """Nothing listening: a retryable Unavailable naming the host, quickly."""
    port = free_port()
    provider = MlflowProvider(api_key="{}", base_url=f"http://127.0.0.1:{port}", timeout=3.0)
    with pytest.raises(Unavailable, match=f"127.0.0.1:{port}") as caught:
        provider.fetch_run("1/" + "a" * 32)
    assert caught.value.retryable and "could not be reached" in caught.value.message


class _Answer(BaseHTTPRequestHandler):
    """A loopback HTTP server answering what an MLflow server should not (a proxy, a page)."""

    body = b"<html>not mlflow</html>"
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_mlflow() -> Iterator[str]:
    """Serve HTML on loopback; yields its address."""
    server = HTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_non_json_answer_is_unreadable_not_a_crash(not_mlflow: str) -> None:
    """A server answering HTML (a login page, a proxy) is a readable error."""
    provider = MlflowProvider(api_key="{}", base_url=not_mlflow, timeout=3.0)
    with pytest.raises(TrackingError, match="could not read"):
        provider.fetch_run("1/" + "a" * 32)


def test_server_that_never_answers_times_out() -> None:
    """A socket that accepts and stays silent ends in a timeout, not a hang."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        provider = MlflowProvider(api_key="{}", base_url=url, timeout=1.0)
        with pytest.raises(Unavailable, match="did not answer in time"):
            provider.fetch_run("1/" + "a" * 32)


def test_markup_in_keys_from_a_non_mlflow_server_stays_text() -> None:
    """MLflow itself refuses markup in keys; another server may not. Values stay plain text,
    capped, and unknown shapes are skipped (the web tests check they render escaped)."""
    provider = MlflowProvider(api_key="{}", base_url="http://127.0.0.1:1")
    info = {"run_id": "r1", "experiment_id": "1", "status": "<b>", "start_time": "x"}
    data = {
        "params": [{"key": "<img src=x>", "value": "<script>1</script>"}, {"key": 5}, "junk"],
        "metrics": [{"key": "<i>m</i>", "value": "Infinity"}, {"key": "ok", "value": "NaN"}],
        "tags": [{"key": "<b>t</b>", "value": "v" * 10_000}, {"key": "mlflow.user", "value": "x"}],
    }
    run = provider._run_data(info, data)
    assert run.config == {"<img src=x>": "<script>1</script>"}
    assert run.summary["<i>m</i>"] == math.inf and math.isnan(run.summary["ok"])
    assert run.state == "<b>" and run.created_at is None  # unknown status: shown as text
    (tag,) = run.tags
    assert tag.startswith("<b>t</b>=v") and len(tag) <= 200


def test_saved_auth_of_any_shape_decodes_safely() -> None:
    """A damaged or foreign secret means no auth, never a crash; unknown fields are dropped."""
    assert parse_auth("[1, 2]") == {} and parse_auth("not json") == {} and parse_auth(None) == {}
    assert parse_auth('{"token": "t", "header": "x"}') == {"token": "t"}
