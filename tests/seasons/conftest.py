"""Fixtures for seasons, projects and milestones."""

from __future__ import annotations

import pytest

from portfolio.models import Season
from portfolio.seasons import service as seasons


@pytest.fixture()
def ctx(app):
    """An app context, for services that read settings or content/."""
    with app.app_context():
        yield


@pytest.fixture()
def quarter(app, session):
    """Return the season of a calendar quarter, created if needed."""

    def get(_session, year: int, q: int) -> Season:
        with app.app_context():
            season = seasons.ensure_quarter(session, year, q)
            session.commit()
        return season

    return get
