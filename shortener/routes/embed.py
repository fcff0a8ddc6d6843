"""The share-button script publishers embed: GET /embed/share.js."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

bp = Blueprint("embed", __name__, url_prefix="/embed")

STATIC = Path(__file__).resolve().parent.parent / "static"
MAX_AGE_SECONDS = 3600


@bp.get("/share.js")
def share_js() -> Response:
    """The script, cacheable for an hour (revalidated by ETag) and loadable from any site."""
    response = send_from_directory(
        STATIC, "share.js", mimetype="text/javascript", max_age=MAX_AGE_SECONDS
    )
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
