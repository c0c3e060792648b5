"""Project tags chosen by the learner: parsed, limited, slugged, and the tag page's list."""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import Session, col, delete, func, select

from ..errors import DomainError
from ..models import Project, ProjectTag, User, Visibility
from ..page_version import bump_version

MAX_TAGS = 5
MAX_TAG_CHARS = 32
MAX_SLUG_CHARS = 40


def slugify(label: str) -> str:
    """ "Time Series" → "time-series"; accents folded, anything else a hyphen."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_SLUG_CHARS].strip("-")


def parse(raw: str | None) -> list[tuple[str, str]]:
    """Comma-separated labels → [(slug, label)], duplicates dropped; DomainError when invalid."""
    labels = [" ".join(part.split()) for part in (raw or "").split(",")]
    out: dict[str, str] = {}
    for label in filter(None, labels):
        if len(label) > MAX_TAG_CHARS:
            raise DomainError(
                f"Each tag may have at most {MAX_TAG_CHARS} characters.", field="tags"
            )
        slug = slugify(label)
        if not slug:
            raise DomainError(f"“{label}” has no letters or digits; tags need some.", field="tags")
        out.setdefault(slug, label)
    if len(out) > MAX_TAGS:
        raise DomainError(f"Choose at most {MAX_TAGS} tags.", field="tags")
    return list(out.items())


def project_tags(session: Session, project_id: int) -> list[ProjectTag]:
    return list(
        session.exec(
            select(ProjectTag).where(ProjectTag.project_id == project_id).order_by(ProjectTag.id)
        )
    )


def set_tags(session: Session, project: Project, tags: list[tuple[str, str]]) -> None:
    """Replace the project's tags (the search index follows at commit)."""
    session.exec(delete(ProjectTag).where(ProjectTag.project_id == project.id))
    for slug, label in tags:
        session.add(ProjectTag(project_id=project.id, slug=slug, label=label))
    session.flush()
    bump_version(session, project.id)  # the public page shows tags: a new cache key


def tagged_projects(
    session: Session, slug: str, *, page: int, per_page: int
) -> tuple[str | None, list[int], int]:
    """(a label of the tag, one page of public project ids newest first, total)."""
    base = (
        select(Project.id)
        .join(ProjectTag, ProjectTag.project_id == Project.id)
        .join(User, User.id == Project.owner_id)
        .where(ProjectTag.slug == slug, Project.visibility == Visibility.public)
    )
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    ids = list(
        session.exec(
            base.order_by(col(Project.last_activity_at).desc(), col(Project.id).desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    label = session.exec(
        select(ProjectTag.label)
        .join(Project, Project.id == ProjectTag.project_id)
        .where(ProjectTag.slug == slug, Project.visibility == Visibility.public)
        .limit(1)
    ).first()
    return label, ids, total
