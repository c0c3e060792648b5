"""Gzip for responses that are built once and sent many times (stdlib gzip, no new library).

Static files, the vega-embed bundle and the cached public pages and charts are
compressed once when first built and kept, so a request only picks a variant:
no per-request compression cost. Behind nginx the same bytes pass through
(nginx's `gzip` leaves an encoded response alone).
"""

from __future__ import annotations

import gzip

from flask import request
from werkzeug.wrappers import Response

# Below this a gzip header and checksum cost about what they save.
MIN_BYTES = 512


def compress(data: bytes) -> bytes | None:
    """Return gzipped `data` when it is worth sending so; None when it is not.

    mtime=0 so the same input always gives the same bytes (ETags stay stable).
    """
    if len(data) < MIN_BYTES:
        return None
    packed = gzip.compress(data, compresslevel=9, mtime=0)
    return packed if len(packed) < len(data) * 0.9 else None


def accepts_gzip() -> bool:
    """True when the request's Accept-Encoding allows gzip (q > 0)."""
    return request.accept_encodings["gzip"] > 0


def send_variant(response: Response, packed: bytes | None) -> Response:
    """Put the gzipped body in `response` when the client takes it; mark it as varying.

    The ETag, if any, gets a "-gz" suffix on the gzipped variant: two
    representations must not share a strong validator.
    """
    response.vary.add("Accept-Encoding")
    if packed is None or not accepts_gzip():
        return response
    response.set_data(packed)
    response.headers["Content-Encoding"] = "gzip"
    tag, weak = response.get_etag()
    if tag:
        response.set_etag(tag + "-gz", weak=weak)
    return response
