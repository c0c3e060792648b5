"""Link MLflow runs and follow MLflow experiments (the MLflow half of link.py).

An MLflow link is a ``RunLink`` with ``provider = "mlflow"``, ``ref = "experiment_id/run_id"``
(``"experiment_id"`` for an experiment followed by tags) and ``base_url`` = the learner's
saved server. From there on everything is shared with W&B links: the sync job, snapshots,
the public page's comparison and charts, labels, hiding, "Sync now" and unlinking.

Like W&B links, a pasted link is checked with the server first (at most
``WANDB_LINK_CHECK_SECONDS``): a run the server says does not exist, or credentials it
refuses, save nothing; a server that does not answer in time gets the link queued.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from ..auth.rules import ValidationError
from ..errors import Forbidden
from ..models import LinkKind, Project, RunLink, User
from ..projects import access
from . import link as links
from . import mlflow_credentials
from .mlflow_refs import MlflowRef, parse_mlflow_ref
from .provider import InvalidReference
from .settings import TrackingSettings

logger = logging.getLogger(__name__)

PROVIDER = mlflow_credentials.PROVIDER


@dataclass(frozen=True)
class MlflowTarget:
    """A parsed MLflow reference and the saved server that holds it."""

    ref: MlflowRef
    server: str


def resolve_target(session: Session, actor: User, text: str, *, kind: str) -> MlflowTarget:
    """Parse pasted text against the actor's saved MLflow servers and pick the server."""
    servers = [c.base_url for c in mlflow_credentials.list_servers(session, actor.id)]
    if not servers:
        raise ValidationError(
            "Save your MLflow server under Settings → MLflow servers first (its address, "
            "and a token or user name and password if it needs one).",
            field="ref",
        )
    try:
        ref = parse_mlflow_ref(text, servers=servers, kind="run" if kind == "run" else "experiment")
    except InvalidReference as err:
        raise ValidationError(err.message, field="ref") from None
    if ref.server is not None:
        return MlflowTarget(ref, ref.server)
    if len(servers) > 1:
        raise ValidationError(
            "You saved several MLflow servers: paste the full link from the MLflow UI so we "
            "know which one this is.",
            field="ref",
        )
    return MlflowTarget(ref, servers[0])


def existing(session: Session, project: Project, ref: str) -> RunLink | None:
    """Return the project's MLflow link with this ref, if any."""
    return session.exec(
        select(RunLink).where(
            RunLink.project_id == project.id, RunLink.provider == PROVIDER, RunLink.ref == ref
        )
    ).first()


def add_mlflow_link(
    session: Session,
    project: Project,
    actor: User,
    text: str,
    *,
    kind: LinkKind = LinkKind.run,
    tags: str = "",
    label: str = "",
    hidden: bool = False,
    now: datetime,
    settings: TrackingSettings | None = None,
    verify: bool = True,
) -> RunLink:
    """Link one MLflow run, or follow an experiment's runs carrying any of ``tags``."""
    if not access.can_edit(session, project, actor):
        raise Forbidden("Only the project's members may link runs.")
    settings = settings or TrackingSettings.current()
    label = links._check_label(label)
    tag_list = links.parse_tags(tags) if kind == LinkKind.project_filter else []
    is_run = kind == LinkKind.run
    target = resolve_target(session, actor, text, kind="run" if is_run else "experiment")
    ref = target.ref.path
    if (found := existing(session, project, ref)) is not None:
        what = "MLflow run" if is_run else "MLflow experiment"
        if found.parent_id is not None:
            raise ValidationError(
                f"This {what} is already on the project (found by an experiment link).",
                field="ref",
            )
        raise ValidationError(f"This {what} is already linked to the project.", field="ref")
    source = mlflow_credentials.resolve(session, user_id=actor.id, base_url=target.server)
    if source.api_key is None:
        raise ValidationError(source.problem, field="ref")
    if verify:
        provider: Any = settings.provider(
            api_key=source.api_key, base_url=target.server, name=PROVIDER
        )
        if is_run:
            links._check_with_wandb(lambda: provider.fetch_run(ref), settings)
        else:
            links._check_with_wandb(lambda: provider.list_runs(ref, tags=tag_list), settings)
    new = links.create_link(
        session, project, actor, provider=PROVIDER, kind=kind, ref=ref,
        base_url=target.server, tags=tag_list, label=label, hidden=hidden, now=now,
    )  # fmt: skip
    logger.info("project %s linked MLflow %s %s on %s", project.id, kind.value, ref, target.server)
    return new
