"""Tracking commands: import an offline run, and serve a fake W&B for trying links locally."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..db import session_scope
from ..errors import DomainError
from ..models import utcnow

# Not a secret: it only opens the loopback fake server of `flask dev-wandb`.
DEV_KEY = "seasons_dev_wandb_key_for_local_use_only_0"


@click.command("import-wandb-offline")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--project", "project_ref", required=True, help="The project, as handle/slug.")
@click.option("--label", default="", help="Shown instead of the run's name.")
@click.option("--hidden", is_flag=True, help="Keep it off the public page.")
@with_appcontext
def import_offline_command(path: Path, project_ref: str, label: str, hidden: bool) -> None:
    """Import an offline W&B run (a run folder, its .wandb file, or a .zip) into a project."""
    from ..projects import service as projects
    from .imports import import_offline

    handle, _, slug = project_ref.strip().strip("/").partition("/")
    with session_scope() as session:
        try:
            project, _moved = projects.resolve(session, handle, slug)
        except DomainError:
            raise click.ClickException(f"There is no project {project_ref!r}.") from None
        try:
            stored = import_offline(session, project, None, path, label, hidden, now=utcnow())
        except DomainError as err:
            raise click.ClickException(err.message) from None
        session.commit()
    verdict, ref = stored.verdict, stored.link.ref
    if verdict.warning:
        click.echo(f"Warning: {verdict.warning}", err=True)
    if not verdict.applied:
        raise click.ClickException(
            f"Not applied to {ref}: {verdict.reason} The current results stay; a member can "
            "replace them anyway on the project's runs page."
        )
    click.echo(f"Imported {ref} into {handle}/{project.slug}.")


@click.command("dev-wandb")
@click.option("--port", default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--api-key", default=DEV_KEY, show_default=True, help="The key it accepts.")
def dev_wandb_command(port: int, api_key: str) -> None:
    """Serve a fake W&B on 127.0.0.1 with demo runs, to try linking without internet.

    A development tool only: it answers the W&B client's GraphQL queries from memory.
    """
    try:  # devtools/ lives in a checkout only: the wheel leaves it out
        from devtools.wandb.fakeserver import FakeWandb
        from devtools.wandb.fakeserver_runs import seed_demo
    except ImportError as exc:
        raise click.ClickException(
            "dev-wandb needs a source checkout (devtools/ is not installed with the wheel)."
        ) from exc

    fake = FakeWandb(api_key=api_key, default_entity="demo-learner", port=port)
    seed_demo(fake)
    click.echo(
        f"Fake W&B serving on {fake.url}. Start Seasons with:\n"
        f"  WANDB_BASE_URL={fake.url} WANDB_API_KEY={api_key} flask --app app run\n"
        "then link the run demo-learner/mnist/demo0001, or follow the project "
        "demo-learner/mnist with the tag portfolio. Ctrl-C stops it."
    )
    with contextlib.suppress(KeyboardInterrupt):
        fake.serve_forever()
