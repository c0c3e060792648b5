"""Flask CLI commands: migrations, the first admin, demo content."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from . import migrate
from .db import get_engine, session_scope
from .errors import DomainError


def register_commands(app: Flask) -> None:
    db_cli = AppGroup("db", help="Database migrations (Alembic).")

    @db_cli.command("upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        """Apply migrations up to REVISION (default: head)."""
        migrate.upgrade(get_engine(), revision)
        click.echo(f"Database at {revision}.")

    @db_cli.command("downgrade")
    @click.argument("revision")
    def db_downgrade(revision: str) -> None:
        """Revert migrations down to REVISION."""
        migrate.downgrade(get_engine(), revision)

    @db_cli.command("revision")
    @click.option("-m", "--message", required=True)
    def db_revision(message: str) -> None:
        """Autogenerate a migration from the models (review it before committing)."""
        from alembic import command

        command.revision(migrate.alembic_config(get_engine()), message=message, autogenerate=True)

    app.cli.add_command(db_cli)

    @app.cli.command("create-admin")
    @click.option("--email", prompt=True)
    @click.option("--handle", prompt=True)
    @click.option("--name", "display_name", prompt="Display name")
    @click.password_option()
    def create_admin(email: str, handle: str, display_name: str, password: str) -> None:
        """Create an admin account, or promote the account with that email."""
        from .auth import service

        with session_scope() as session:
            try:
                user = service.create_or_promote_admin(
                    session,
                    email=email,
                    handle=handle,
                    display_name=display_name,
                    password=password,
                )
            except DomainError as err:
                raise click.ClickException(err.message) from err
            session.commit()
            click.echo(f"{user.handle} <{user.email}> is an admin.")

    @app.cli.command("export-site")
    @click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
    @click.option("--handle", required=True, help="Whose public portfolio to export.")
    def export_site_command(out_dir: Path, handle: str) -> None:
        """Write a learner's public portfolio as static files (works from file://)."""
        from .public.export import ExportError, export_site

        try:
            pages = export_site(app, out_dir, handle)
        except ExportError as err:
            raise click.ClickException(str(err)) from err
        click.echo(f"Wrote {len(pages)} pages to {out_dir}; open {out_dir / 'index.html'}.")

    @app.cli.command("demo")
    def demo() -> None:
        """Load the demo content from content/demo (safe to run again)."""
        from .demo import load_demo

        with session_scope() as session:
            summary = load_demo(session)
            session.commit()
        click.echo(summary)
