"""The tracking-provider interface: plain dataclasses, our own errors, a Protocol and a registry.

Adapters (W&B online, W&B offline files) return these dataclasses and never touch the
database; the tracking service maps them onto models.

History is streamed, not carried in ``RunData``: a big run has millions of rows, so
``RunData.history_keys`` names the numeric metrics and ``provider.iter_history(ref, keys)``
yields ``(step, {metric: value})`` rows one at a time. Values may be floats or the values
as the tracker sent them: the sync code feeds the rows into ``downsample.SeriesAccumulator``
(compact float arrays), which keeps numbers (and the "NaN"/"Infinity" strings), skips
anything else and ``_`` internals, and downsamples each metric, so nothing ever holds a
list of row dicts for a whole run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeAlias, runtime_checkable

SummaryValue: TypeAlias = float | str | None
ConfigValue: TypeAlias = float | int | str | bool | None
HistoryRow: TypeAlias = tuple[int, Mapping[str, Any]]  # values: see the module docstring


@dataclass(frozen=True)
class RunData:
    """One run as a provider reports it, already cleaned and size-capped (see values.py)."""

    provider: str
    path: str  # canonical reference, "entity/project/run_id" for W&B
    run_id: str
    name: str  # the human display name; may hold any text, escape it when rendering
    state: str
    url: str | None = None
    created_at: datetime | None = None  # aware, UTC
    heartbeat_at: datetime | None = None  # aware, UTC
    tags: tuple[str, ...] = ()
    summary: Mapping[str, SummaryValue] = field(default_factory=dict)
    config: Mapping[str, ConfigValue] = field(default_factory=dict)
    history_keys: tuple[str, ...] = ()  # numeric metrics available to iter_history
    history_rows: int | None = None  # rows the provider says it holds, when known
    ended: bool | None = None  # the reader saw the run's exit record (None: cannot tell)

    @property
    def display_name(self) -> str:
        """Return the name shown to people (an alias of ``name``)."""
        return self.name

    @property
    def is_running(self) -> bool:
        """Tell the scheduler whether the run may still change."""
        return self.state in {"running", "pending", "preempting"}


class TrackingError(Exception):
    """A provider failure, carrying a message a learner can read."""

    default_message: ClassVar[str] = "Something went wrong while reading the experiment tracker."
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str | None = None,
        *,
        detail: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.detail = detail  # technical cause for logs; never holds secrets
        self.retry_after = retry_after
        super().__init__(self.message)


class NotFound(TrackingError):
    """The run or project does not exist (or was deleted)."""

    default_message = "W&B says this run does not exist (it may have been deleted or moved)."


class Unauthorized(TrackingError):
    """The key is missing, wrong, or may not read this run."""

    default_message = (
        "W&B did not accept the API key: this run may be private (add your own API key "
        "in settings), or the key is wrong or revoked."
    )


class MissingApiKey(Unauthorized):
    """No key at all: the W&B client refuses to start without one, even for public runs."""

    default_message = (
        "No W&B API key is set. Ask the operator to set a server-wide key for public runs, "
        "or add your own key in settings."
    )


class RateLimited(TrackingError):
    """The provider asked us to slow down."""

    default_message = "W&B is limiting how often we may ask; we will try again later."
    retryable = True


class Unavailable(TrackingError):
    """The provider did not answer, or answered something unreadable."""

    default_message = "W&B did not answer in time; we will try again later."
    retryable = True


class InvalidReference(TrackingError):
    """The pasted link or path is not a run or project we can read."""

    default_message = (
        "That is not a W&B link we can read. Paste a run link like "
        "https://wandb.ai/<entity>/<project>/runs/<run id>, or entity/project/run_id."
    )


@runtime_checkable
class TrackingProvider(Protocol):
    """What the sync code needs from an experiment tracker."""

    name: ClassVar[str]

    def fetch_run(self, ref: str) -> RunData:
        """Return one run's metadata, summary and config."""
        ...

    def list_runs(self, project_ref: str, *, tags: Sequence[str] = ()) -> list[RunData]:
        """Return a project's runs carrying any of ``tags`` (all runs when empty)."""
        ...

    def iter_history(self, ref: str, keys: Sequence[str] | None = None) -> Iterator[HistoryRow]:
        """Yield ``(step, {metric: value})`` rows in step order; ``None`` means all metrics."""
        ...


PROVIDERS: dict[str, type[Any]] = {}
_BUILTIN_MODULES = (
    "portfolio.tracking.wandb_provider",
    "portfolio.tracking.offline",
    "portfolio.tracking.mlflow_provider",
)


def register(name: str) -> Callable[[type[Any]], type[Any]]:
    """Register a provider class under ``name`` (a class decorator)."""

    def decorate(cls: type[Any]) -> type[Any]:
        cls.name = name
        PROVIDERS[name] = cls
        return cls

    return decorate


def get_provider(name: str, **credentials: Any) -> TrackingProvider:
    """Build the provider called ``name``; the built-in ones load lazily (no wandb import)."""
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)
    try:
        cls = PROVIDERS[name]
    except KeyError:
        raise TrackingError(f"Unknown tracking provider {name!r}.") from None
    return cls(**credentials)
