"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, request

# No inline scripts or styles and nothing from other origins: the app serves
# every asset itself (no CDN, no web fonts), so 'self' is all pages need.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# The same policy for pages served as files (the static export), as a <meta>
# tag: browsers ignore frame-ancestors there (it only works as a header).
META_CSP = "; ".join(d for d in CSP.split("; ") if not d.startswith("frame-ancestors"))

# Pages that show one person's own data: no browser or shared cache keeps a
# copy (a shared computer's back button, a proxy). The API's private routes too.
PRIVATE_PREFIXES = (
    "/settings/",
    "/notifications",
    "/dashboard",
    "/invitations",
    "/mentor",
    "/admin/",
    "/api/v1/me",
    "/api/v1/notifications",
    "/api/v1/projects",
)


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith(PRIVATE_PREFIXES):
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
