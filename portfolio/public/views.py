"""Home page and health check."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..content import render_page
from ..db import get_engine

bp = Blueprint("public", __name__)
logger = logging.getLogger(__name__)


@bp.get("/")
def home():
    return render_template("public/home.html", intro=render_page("home"))


@bp.get("/healthz")
def healthz():
    """Report whether the database answers; load balancers poll this."""
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        logger.exception("health check: database unreachable")
        return jsonify({"status": "error", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"}), 200
