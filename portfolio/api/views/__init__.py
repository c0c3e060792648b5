"""API operations, one module per resource; importing this package registers them all."""

from . import (  # noqa: F401
    docs,
    me,
    milestones,
    notifications,
    offline_runs,
    projects,
    public,
    runs,
    seasons,
    updates,
)
