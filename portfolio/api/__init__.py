"""JSON API under /api/v1: personal access tokens, problem details, an OpenAPI 3.1 document.

``bp`` is registered by create_app(); importing ``views`` attaches every operation.
"""

from . import views  # noqa: F401  (registers the operations on bp)
from .blueprint import bp

__all__ = ["bp"]
