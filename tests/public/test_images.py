"""Write-up figures: checked by content, re-encoded, served safely, private with drafts."""

from __future__ import annotations

import io

from PIL import Image
from sqlmodel import select

from portfolio.models import Project, ProjectImage, Visibility
from tests.conftest import csrf_token, login


def _png(size=(40, 30), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def _upload(client, project, data: bytes, name: str, alt: str = "A figure"):
    url = f"/u/maya/{project.slug}/images"
    return client.post(
        url,
        data={
            "image": (io.BytesIO(data), name),
            "alt": alt,
            "csrf_token": csrf_token(client, f"/u/maya/{project.slug}/write-up"),
        },
        content_type="multipart/form-data",
    )


def test_png_upload_is_reencoded_and_served_safely(app, client, session, published):
    maya, project = published
    login(client, maya)
    with_exif = io.BytesIO()
    Image.new("RGB", (40, 30)).save(with_exif, format="JPEG", exif=b"Exif\x00\x00secret-gps")
    response = _upload(client, project, with_exif.getvalue(), "photo.jpg")
    assert response.status_code == 302
    image = session.exec(select(ProjectImage)).one()
    assert (image.content_type, image.width, image.height) == ("image/jpeg", 40, 30)
    served = client.get(f"/u/maya/{project.slug}/images/{image.filename}")
    body = served.data
    served.close()  # a file response: close it as a WSGI server would
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert body[:2] == b"\xff\xd8" and b"secret-gps" not in body  # metadata dropped by re-encoding


def test_bad_uploads_are_refused_and_write_nothing(app, client, session, published):
    maya, project = published
    login(client, maya)
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
    )
    cases = [
        (svg, "diagram.svg", "PNG, JPEG, WebP or GIF"),
        (b"<html><script>alert(1)</script></html>", "fake.png", "not an image we can read"),
        (b"", "empty.png", "empty"),
        (_png()[:40], "truncated.png", "not an image we can read"),
    ]
    for data, name, message in cases:
        response = _upload(client, project, data, name)
        assert response.status_code == 422, name
        assert message in response.get_data(as_text=True), name
    app.config["IMAGE_MAX_BYTES"] = 1000
    big = _upload(client, project, _png((400, 400), "BMP") + b"x" * 2000, "big.png")
    assert big.status_code == 422 and "larger than" in big.get_data(as_text=True)
    no_alt = _upload(client, project, _png(), "ok.png", alt="")
    assert no_alt.status_code == 422
    assert session.exec(select(ProjectImage)).first() is None


def test_images_of_drafts_are_private(app, client, session, published):
    maya, project = published
    owner = app.test_client()
    login(owner, maya)
    assert _upload(owner, project, _png(), "fig.png").status_code == 302
    image = session.exec(select(ProjectImage)).one()
    project = session.get(Project, project.id)
    project.visibility = Visibility.draft
    session.add(project)
    session.commit()
    url = f"/u/maya/{project.slug}/images/{image.filename}"
    assert client.get(url).status_code == 404
    mine = owner.get(url)
    mine.close()
    assert mine.status_code == 200
    assert client.get(f"/u/maya/{project.slug}/images/../../secret_key").status_code == 404


def _exif(description: str) -> bytes:
    exif = Image.Exif()
    exif[0x010E] = description  # ImageDescription
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    return exif.tobytes()


def test_reencode_drops_jpeg_comment_exif_and_xmp_and_applies_orientation() -> None:
    """No JPEG COM segment, EXIF or XMP survives; the EXIF rotation is baked into pixels."""
    from portfolio.projects.images import _reencode

    source = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 200, 30)).save(
        source,
        format="JPEG",
        comment=b"com-secret-home-address",
        exif=_exif("exif-secret-gps"),
        xmp=b"<x:xmpmeta>xmp-secret</x:xmpmeta>",
    )
    assert b"com-secret-home-address" in source.getvalue()
    out, fmt, width, height = _reencode(source.getvalue())
    for secret in (b"com-secret", b"exif-secret", b"xmp-secret", b"\xff\xfe"):
        assert secret not in out, secret  # \xff\xfe is the COM marker itself
    reopened = Image.open(io.BytesIO(out))
    assert fmt == "JPEG" and (width, height) == reopened.size == (20, 40)
    assert "comment" not in reopened.info and "exif" not in reopened.info


def test_reencode_drops_png_text_chunks_and_gif_comments() -> None:
    """PNG tEXt/iTXt/zTXt chunks and GIF comment extensions are gone after re-encoding."""
    from PIL import PngImagePlugin

    from portfolio.projects.images import _reencode

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "text-secret")
    info.add_text("Software", "ztxt-secret", zip=True)
    info.add_itxt("Comment", "itxt-secret")
    png = io.BytesIO()
    Image.new("RGBA", (8, 8), (1, 2, 3, 128)).save(png, format="PNG", pnginfo=info)
    assert b"text-secret" in png.getvalue()
    out, fmt, *_ = _reencode(png.getvalue())
    assert fmt == "PNG"
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"text-secret", b"itxt-secret"):
        assert chunk not in out, chunk
    assert Image.open(io.BytesIO(out)).getpixel((0, 0)) == (1, 2, 3, 128)

    gif = io.BytesIO()
    Image.new("P", (8, 8)).save(gif, format="GIF", comment=b"gif-comment-secret")
    out, fmt, *_ = _reencode(gif.getvalue())
    assert fmt == "GIF" and b"gif-comment-secret" not in out


def test_reencode_applies_then_drops_an_icc_profile() -> None:
    """The colour profile is converted into sRGB pixels and not stored (it can name a device)."""
    from PIL import ImageCms

    from portfolio.projects.images import _reencode

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 100, 50)).save(source, format="PNG", icc_profile=profile)
    out, *_ = _reencode(source.getvalue())
    reopened = Image.open(io.BytesIO(out))
    assert "icc_profile" not in reopened.info and b"iCCP" not in out
    pixel = reopened.getpixel((0, 0))
    assert all(abs(a - b) <= 2 for a, b in zip(pixel, (200, 100, 50), strict=True))
