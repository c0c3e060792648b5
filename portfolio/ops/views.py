"""Health endpoints for load balancers and uptime monitors: liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from ..db import get_engine
from ..models import utcnow
from . import readiness

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """Answer 200 while the process serves requests; touches no database."""
    return jsonify({"status": "ok"}), 200


@bp.get("/readyz")
def readyz():
    """Check the database, Redis (when configured) and the scheduler's heartbeat: 200 or 503.

    ``?checks=database,redis`` limits the checks, e.g. for a load balancer that should
    keep sending traffic while only the scheduler is down.
    """
    wanted = request.args.get("checks")
    only = readiness.CHECKS
    if wanted is not None:
        only = tuple(name.strip() for name in wanted.split(",") if name.strip())
        unknown = set(only) - set(readiness.CHECKS)
        if unknown or not only:
            abort(400, f"checks must be some of {', '.join(readiness.CHECKS)}.")
    result = readiness.check(get_engine(), current_app.config, now=utcnow(), only=only)
    return jsonify(result.as_json()), 503 if result.failed else 200
