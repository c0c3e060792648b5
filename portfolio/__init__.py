"""Seasons: quarterly ML project seasons with deadlines and public portfolios."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .logs import configure_logging, init_request_logging

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
logger = logging.getLogger(__name__)


def shipped_folder(name: str) -> Path:
    """Find templates/ or content/: inside the installed wheel, else beside the package.

    The wheel maps the top-level folders to portfolio/_<name> (see pyproject.toml);
    a checkout or an editable install reads them where they are in the repository.
    """
    installed = PACKAGE / f"_{name}"
    return installed if installed.is_dir() else ROOT / name


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then environment, then test overrides.

    No migrations, prompts or network here: commands do those.
    """
    overrides = dict(overrides or {})
    app = Flask(
        __name__,
        instance_path=overrides.get("INSTANCE_PATH") or config_module.instance_path_from_env(),
        instance_relative_config=True,
        template_folder=str(shipped_folder("templates")),
        static_folder="static",
    )
    instance = Path(app.instance_path)
    app.config.update(config_module.from_env(instance))
    app.config["CONTENT_DIR"] = str(shipped_folder("content"))
    app.config.update(overrides)
    _ensure_secret_key(app, instance)
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    _init_extensions(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    from .cli import register_commands

    register_commands(app)
    return app


def _ensure_secret_key(app: Flask, instance: Path) -> None:
    config_module.check_shared_keys(app.config)
    config_module.check_intervals(app.config)
    key = app.config.get("SECRET_KEY")
    if not key:
        app.config["SECRET_KEY"] = config_module.load_secret_key(instance)
    elif key in config_module.KNOWN_DEV_SECRETS and not (app.debug or app.testing):
        raise RuntimeError(
            "SECRET_KEY is a well-known development value; set a random one "
            "(or unset it to have one generated in the instance folder)."
        )


def _init_extensions(app: Flask) -> None:
    from . import auth, db, errors, httpcache, security, static_files
    from .extensions import cache, csrf, limiter, login_manager

    db.init_app(app)
    from .discovery.index import init_events

    init_events()
    cache.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    httpcache.init_app(app)
    static_files.init_app(app)
    init_request_logging(app)


def _register_blueprints(app: Flask) -> None:
    from .admin.views import bp as admin_bp
    from .auth import (  # noqa: F401  (account pages on auth.bp)
        account_views,
        deletion_views,
        profile_views,
        recovery_views,
        token_views,
    )
    from .auth.views import bp as auth_bp
    from .projects import (
        publish_views,  # noqa: F401  (adds the visibility route to projects.bp)
        writeup_views,  # noqa: F401  (adds write-up routes to projects.bp)
    )
    from .projects.views import bp as projects_bp
    from .public import project_views  # noqa: F401  (adds the project routes to public.bp)
    from .public.views import bp as public_bp
    from .seasons import (
        demo_day_views,  # noqa: F401  (pins, feed, highlight form)
        milestone_views,  # noqa: F401  (adds milestone routes to projects.bp)
        recap_views,  # noqa: F401  (recap editor and image routes)
    )
    from .seasons.admin_views import bp as seasons_admin_bp
    from .seasons.organiser_views import bp as organiser_bp
    from .seasons.views import bp as seasons_bp

    for bp in (public_bp, auth_bp, admin_bp, seasons_bp, seasons_admin_bp, organiser_bp):
        app.register_blueprint(bp)
    app.register_blueprint(projects_bp)

    from .notify.admin_views import bp as notify_admin_bp
    from .notify.views import bp as notify_bp
    from .ops.views import bp as ops_bp

    for bp in (notify_bp, notify_admin_bp, ops_bp):
        app.register_blueprint(bp)

    from .client_wheel import bp as client_bp
    from .tracking.views import bp as tracking_bp

    app.register_blueprint(tracking_bp)
    app.register_blueprint(client_bp)

    from .discovery.views import bp as discovery_bp

    app.register_blueprint(discovery_bp)

    from .api import bp as api_bp

    app.register_blueprint(api_bp)

    from .discussion import page_views, update_views  # noqa: F401  (routes of discussion.bp)
    from .discussion.admin_views import bp as discussion_admin_bp
    from .discussion.views import bp as discussion_bp

    for bp in (discussion_bp, discussion_admin_bp):
        app.register_blueprint(bp)


def _register_template_helpers(app: Flask) -> None:
    from . import templating

    templating.init_app(app)
