"""Project tags chosen by the learner: parsed, limited, slugged, and the tag page's list."""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import Session, col, delete, func, select

from ..auth.rules import ValidationError
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
    """The edit page's comma-separated labels → [(slug, label)]; see parse_labels."""
    return parse_labels((raw or "").split(","))


def parse_labels(raw_labels: list[str]) -> list[tuple[str, str]]:
    """Labels → [(slug, label)], blanks and duplicates dropped; ValidationError when invalid.

    One set of rules for the edit page (which splits its text at commas) and the
    API (which sends a list), so both refuse the same tags with the same words:
    a 422 naming the `tags` field, before anything is written.
    """
    labels = [" ".join(part.split()) for part in raw_labels]
    out: dict[str, str] = {}
    for label in filter(None, labels):
        if "," in label:
            raise ValidationError("A tag cannot contain a comma.", field="tags")
        if len(label) > MAX_TAG_CHARS:
            raise ValidationError(
                f"Each tag may have at most {MAX_TAG_CHARS} characters.", field="tags"
            )
        slug = slugify(label)
        if not slug:
            raise ValidationError(
                f"“{label}” has no letters or digits; tags need some.", field="tags"
            )
        out.setdefault(slug, label)
    if len(out) > MAX_TAGS:
        raise ValidationError(f"Choose at most {MAX_TAGS} tags.", field="tags")
    return list(out.items())


def project_tags(session: Session, project_id: int) -> list[ProjectTag]:
    """The project's tags in the order the learner gave them (the page and the API show this)."""
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


def public_tag_slugs(session: Session) -> list[str]:
    """Slugs with at least one public project: the tag pages worth a sitemap entry."""
    return list(
        session.exec(
            select(ProjectTag.slug)
            .join(Project, Project.id == ProjectTag.project_id)
            .where(Project.visibility == Visibility.public)
            .distinct()
            .order_by(ProjectTag.slug)
        )
    )
