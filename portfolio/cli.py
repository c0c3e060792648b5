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
        if revision == "head":
            from .discovery.index import fill_if_missing

            with session_scope() as session:
                if fill_if_missing(session):
                    session.commit()
                    click.echo("Search index built.")

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

    search_cli = AppGroup("search", help="The public search index.")

    @search_cli.command("reindex")
    def search_reindex() -> None:
        """Rebuild the search index of public projects from scratch."""
        from .discovery.index import reindex

        with session_scope() as session:
            count = reindex(session)
            session.commit()
        click.echo(f"Indexed {count} public projects.")

    app.cli.add_command(search_cli)

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

    @app.cli.command("export-data")
    @click.argument("out_file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--include-secrets", is_flag=True, help="Also password hashes and tokens.")
    def export_data_command(out_file: Path, include_secrets: bool) -> None:
        """Write every table to a JSON backup file."""
        import json

        from .backup import export_data

        with get_engine().connect() as conn:
            data = export_data(conn, include_secrets=include_secrets)
        out_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        rows = sum(len(rows) for rows in data["tables"].values())
        click.echo(f"Wrote {rows} rows from {len(data['tables'])} tables to {out_file}.")

    @app.cli.command("import-data")
    @click.argument("in_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def import_data_command(in_file: Path) -> None:
        """Load a JSON backup into an empty, migrated database."""
        import json

        from .backup import BackupError, import_data

        try:
            data = json.loads(in_file.read_text(encoding="utf-8"))
            with get_engine().begin() as conn:
                counts = import_data(conn, data)
        except (BackupError, ValueError, KeyError) as err:
            raise click.ClickException(f"Import failed, nothing was written: {err}") from err
        click.echo(f"Imported {sum(counts.values())} rows into {len(counts)} tables.")

    @app.cli.command("migrate-uploads")
    def migrate_uploads_command() -> None:
        """Move figures from instance/uploads into the storage backend (safe to run again)."""
        from .projects.migrate_uploads import migrate_uploads
        from .storage import StorageError, get_storage

        folder = Path(app.instance_path) / "uploads"
        with session_scope() as session:
            try:
                result = migrate_uploads(session, get_storage(app), folder)
            except StorageError as err:
                raise click.ClickException(
                    f"{err.message} Figures moved so far stay moved; run the command again."
                ) from err
        click.echo(f"{folder}: {result.summary()}")

    from .tracking.commands import dev_wandb_command, import_offline_command

    app.cli.add_command(import_offline_command)
    app.cli.add_command(dev_wandb_command)

    @app.cli.command("demo")
    def demo() -> None:
        """Load the demo content from content/demo (safe to run again)."""
        from .demo import load_demo

        with session_scope() as session:
            summary = load_demo(session)
            session.commit()
        click.echo(summary)
