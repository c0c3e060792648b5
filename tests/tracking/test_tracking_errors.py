"""Network failures get distinct messages naming the host, through real clients on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devtools.wandb.fakeserver import FakeWandb
from portfolio.tracking import errors
from portfolio.tracking.errors import ConnectionRefused, HostNotFound, TimedOut, TlsFailed
from portfolio.tracking.provider import TrackingError
from portfolio.tracking.wandb_provider import WandbProvider

from .conftest import RETRIES, TEST_KEY, TIMEOUT

NO_SUCH_HOST = "no-such-host.invalid"  # .invalid never resolves (RFC 6761)


def closed_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def slow_wandb() -> Iterator[FakeWandb]:
    """A fake W&B that answers nothing for 30 s."""
    with FakeWandb(api_key=TEST_KEY) as fake:
        fake.fail("slow", delay=30)
        yield fake


def wandb_error(base_url: str, home: Path) -> TrackingError:
    """Return what the provider raises for a run on ``base_url`` (real wandb client)."""
    provider = WandbProvider(
        api_key=TEST_KEY, base_url=base_url, data_dir=home, timeout=TIMEOUT, retries=RETRIES
    )
    with pytest.raises(TrackingError) as caught:
        provider.fetch_run("learner/mnist/abc123")
    return caught.value


def test_wandb_network_failures_are_told_apart(
    wandb_home: Path, fake_wandb: FakeWandb, slow_wandb: FakeWandb
) -> None:
    """Refused, unknown host, TLS and timeout: four classes, four messages, each names the host."""
    port = closed_port()
    https_to_plain = fake_wandb.url.replace("http://", "https://")
    cases = [
        (f"http://127.0.0.1:{port}", ConnectionRefused, f"127.0.0.1:{port} refused"),
        (f"http://{NO_SUCH_HOST}", HostNotFound, f"name {NO_SUCH_HOST} could not be found"),
        (https_to_plain, TlsFailed, "secure connection to 127.0.0.1:"),
        (slow_wandb.url, TimedOut, f"W&B at {slow_wandb.url[7:]} did not answer in time"),
    ]
    messages = set()
    for base_url, kind, expected in cases:
        err = wandb_error(base_url, wandb_home)
        assert type(err) is kind, (base_url, err.detail)
        assert expected in err.message and err.retryable
        assert err.host == errors.host_of(base_url) and "wandb" not in err.message
        messages.add(err.message.split(":")[0])
    assert len(messages) == 4
    assert "did not answer in time" not in wandb_error(cases[0][0], wandb_home).message


def requests_error(url: str, **kwargs: object) -> BaseException:
    """Return what a plain ``requests`` call (as an MLflow client makes) raises."""
    with pytest.raises(requests.RequestException) as caught:
        requests.get(url, timeout=kwargs.pop("timeout", 2.0), **kwargs)  # type: ignore[arg-type]
    return caught.value


def test_requests_failures_are_classified_the_same_way(
    fake_wandb: FakeWandb, slow_wandb: FakeWandb
) -> None:
    """The classification reads Python's exception types too, for providers on requests."""
    port = closed_port()
    found = {
        "refused": errors.classify(requests_error(f"http://127.0.0.1:{port}/")),
        "dns": errors.classify(requests_error(f"http://{NO_SUCH_HOST}/")),
        "tls": errors.classify(requests_error(fake_wandb.url.replace("http", "https") + "/")),
        "timeout": errors.classify(requests_error(slow_wandb.url + "/graphql", timeout=0.5)),
    }
    assert found == {p.value: p for p in errors.Problem}
    made = errors.network_error(
        requests_error(f"http://127.0.0.1:{port}/"), tracker="MLflow",
        base_url=f"http://127.0.0.1:{port}/api",
    )  # fmt: skip
    assert isinstance(made, ConnectionRefused)
    assert made.message.startswith(f"127.0.0.1:{port} refused the connection: no MLflow server")


def test_other_errors_are_not_network_failures() -> None:
    """An error with none of the four causes is left to the provider's own mapping."""
    assert errors.classify(ValueError("invalid character '<' looking for value")) is None
    assert errors.network_error(KeyError("x"), tracker="W&B", base_url="https://a.b") is None


def test_host_of_names_what_a_learner_typed() -> None:
    """Scheme, credentials and path are left out; a port stays."""
    assert errors.host_of("https://api.wandb.ai") == "api.wandb.ai"
    assert errors.host_of("http://user:pw@10.0.0.5:5000/mlflow") == "10.0.0.5:5000"
    assert errors.host_of("") == "the server"
