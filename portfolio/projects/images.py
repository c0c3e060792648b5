"""Figures for write-ups: checked by content, re-encoded, kept in the storage backend.

Re-encoding with Pillow drops metadata and anything that is not pixels, so a
file that merely claims to be an image (or is an SVG with scripts) never gets
served. Only PNG, JPEG, WebP and GIF are accepted. The bytes go to
``get_storage()`` (the database or an object store) under ``images/<filename>``,
so every web host serves every figure.
"""

from __future__ import annotations

import contextlib
import io
import logging
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from flask import current_app
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlmodel import Session, select

from ..auth.rules import ValidationError, check_length
from ..errors import NotFound
from ..models import Project, ProjectImage, User
from ..page_version import bump_version
from ..storage import StoredObject, get_storage

FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
logger = logging.getLogger(__name__)
MAX_PIXELS = 40_000_000
MAX_IMAGES_PER_PROJECT = 50


def storage_key(filename: str) -> str:
    """Name the stored object that holds a figure's bytes."""
    return f"images/{filename}"


def _read_limited(stream: BinaryIO, limit: int) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            f"That file is larger than {limit // (1024 * 1024)} MB. Resize or compress it.",
            field="image",
        )
    if not data:
        raise ValidationError("That file is empty.", field="image")
    return data


# Image.info keys that are rendering, not metadata; every other key is dropped.
_RENDERING_INFO = frozenset({"transparency", "duration", "loop", "background", "disposal"})
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _strip_metadata(image: Image.Image, fmt: str) -> Image.Image:
    """Bake orientation and colour profile into the pixels, then drop every metadata field.

    EXIF (GPS, camera serials), XMP, JPEG and GIF comments and PNG text chunks
    would otherwise survive a re-save (Pillow writes comments and profiles back
    from ``info``). An ICC profile is applied (pixels converted to sRGB, which
    browsers assume) and then dropped: colours stay as the author saw them,
    while the profile, which can name the device, goes.
    """
    if fmt != "GIF":  # the orientation goes with the EXIF: rotate the pixels now
        image = ImageOps.exif_transpose(image)
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "L", "CMYK"):
        # An unreadable profile: keep the pixels as they are; the profile still goes.
        with contextlib.suppress(ImageCms.PyCMSError):
            image = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                _SRGB,
                outputMode="RGBA" if image.mode == "RGBA" else "RGB",
            )
    image.info = {k: v for k, v in image.info.items() if k in _RENDERING_INFO}
    return image


def _reencode(data: bytes, *, square: int | None = None) -> tuple[bytes, str, int, int]:
    """Open, check and re-save the image; returns (bytes, format, width, height).

    With ``square``, the centre square is cut out and scaled down to at most
    that many pixels a side (avatars); an animated GIF keeps its first frame
    and becomes a PNG.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = image.format
            if fmt not in FORMATS:
                raise ValidationError(
                    "Upload a PNG, JPEG, WebP or GIF image (SVG is not accepted).", field="image"
                )
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationError("That image has too many pixels.", field="image")
            image.load()
            image = _strip_metadata(image, fmt)
            if square:
                image, fmt = _square(image, fmt, square)
            width, height = image.size
            out = io.BytesIO()
            if fmt == "GIF":
                image.save(out, format="GIF", save_all=getattr(image, "n_frames", 1) > 1)
            elif fmt == "JPEG":
                image.convert("RGB").save(out, format="JPEG", quality=88, optimize=True)
            else:
                image.save(out, format=fmt)
    except ValidationError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise ValidationError(
            "That file is not an image we can read. Upload a PNG, JPEG, WebP or GIF.",
            field="image",
        ) from exc
    return out.getvalue(), fmt, width, height


def _square(image: Image.Image, fmt: str, side: int) -> tuple[Image.Image, str]:
    side = min(side, *image.size)
    if fmt == "GIF":
        image, fmt = image.convert("RGBA"), "PNG"
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    return ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS), fmt


def read_upload(stream: BinaryIO, *, square: int | None = None) -> tuple[bytes, str, int, int]:
    """Read an uploaded image within IMAGE_MAX_BYTES, check it and re-encode it.

    Returns (bytes, format, width, height); errors name the form field "image".
    """
    data = _read_limited(stream, current_app.config["IMAGE_MAX_BYTES"])
    return _reencode(data, square=square)


def save_image(
    session: Session, project: Project, *, uploader: User, stream: BinaryIO, alt: str
) -> ProjectImage:
    """Store an uploaded figure; nothing is written unless every check passes."""
    alt = check_length(alt, field="alt", label="Description", max_len=200, required=True)
    count = len(
        session.exec(select(ProjectImage.id).where(ProjectImage.project_id == project.id)).all()
    )
    if count >= MAX_IMAGES_PER_PROJECT:
        raise ValidationError(
            f"A project has at most {MAX_IMAGES_PER_PROJECT} images.", field="image"
        )
    encoded, fmt, width, height = read_upload(stream)
    ext, content_type = FORMATS[fmt]
    filename = f"{secrets.token_urlsafe(12)}.{ext}"
    # The object first, then the row: a row never points at a missing object.
    get_storage().put(storage_key(filename), encoded, content_type, session=session)
    with discard_on_failure(session, filename):
        image = ProjectImage(
            project_id=project.id,
            uploaded_by_id=uploader.id,
            filename=filename,
            content_type=content_type,
            alt=alt,
            width=width,
            height=height,
            size=len(encoded),
        )
        session.add(image)
        session.flush()
        bump_version(session, project.id)
    return image


@contextmanager
def discard_on_failure(
    session: Session, filename: str, *, key: str | None = None
) -> Iterator[None]:
    """Roll back and delete a just-stored figure when the block (a flush or the commit) fails.

    The database backend's object goes with the rollback; an object store would
    otherwise keep an orphan nobody links to. If that delete fails too, the
    orphan stays (a random name nothing points at) and the error raised is the
    block's. ``key`` names the stored object when it is not a figure (an avatar).
    """
    try:
        yield
    except BaseException:
        session.rollback()
        try:
            get_storage().delete(key or storage_key(filename), session=session)
        except Exception:
            logger.warning("could not remove the orphan figure %s", filename, exc_info=True)
        raise


def commit_or_discard(session: Session, filename: str, *, key: str | None = None) -> None:
    """Commit a just-stored figure (or avatar), deleting its bytes if the commit fails.

    The ``commit`` step a form view hands to ``portfolio.forms.commit_or_show``.
    """
    with discard_on_failure(session, filename, key=key):
        session.commit()


def list_images(session: Session, project_id: int) -> list[ProjectImage]:
    return list(
        session.exec(
            select(ProjectImage)
            .where(ProjectImage.project_id == project_id)
            .order_by(ProjectImage.id)
        )
    )


def get_image(session: Session, project: Project, filename: str) -> ProjectImage:
    image = session.exec(
        select(ProjectImage).where(
            ProjectImage.project_id == project.id, ProjectImage.filename == filename
        )
    ).first()
    if image is None:
        raise NotFound("No such image.")
    return image


def read_image(session: Session, image: ProjectImage) -> StoredObject:
    """Return a figure's bytes from the storage backend."""
    return get_storage().get(storage_key(image.filename), session=session)


def delete_image(session: Session, project: Project, image: ProjectImage) -> None:
    """Delete the figure and its stored bytes; an unreachable store refuses the delete."""
    get_storage().delete(storage_key(image.filename), session=session)
    session.delete(image)
    session.flush()
    bump_version(session, project.id)
