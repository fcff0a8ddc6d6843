"""QR code downloads under /api/v1: a link's `qr` share variant as SVG or PNG."""

from __future__ import annotations

from flask import Blueprint, Response

from shortener.qrcodes import (
    DEFAULT_MARGIN,
    MAX_MARGIN,
    MAX_SCALE,
    MAX_SIZE,
    MIN_SIZE,
    render_link_qr,
)
from shortener.routes import lumen
from shortener.routes.api_requests import int_arg, require_api_key

bp = Blueprint("qr", __name__, url_prefix="/api/v1")
bp.before_request(require_api_key)


def qr_response(link_id: int, image_format: str) -> Response:
    """The QR picture of a link, sized by the `size` or `scale` and `margin` query parameters."""
    margin = int_arg("margin", DEFAULT_MARGIN, 0, MAX_MARGIN)
    size = int_arg("size", None, MIN_SIZE, MAX_SIZE)
    scale = int_arg("scale", None, 1, MAX_SCALE)
    picture = render_link_qr(
        lumen().links,
        link_id,
        image_format,
        margin=DEFAULT_MARGIN if margin is None else margin,
        size=size,
        scale=scale,
    )
    filename = f"lumen-{picture.variant.link_id}-qr.{image_format}"
    return Response(
        picture.data,
        mimetype=picture.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Lumen-Short-Url": str(picture.variant.as_json()["short_url"]),
        },
    )


@bp.get("/links/<int:link_id>/qr.<any(svg, png):image_format>")
def link_qr(link_id: int, image_format: str) -> Response:
    """The QR code of the link's `qr` share variant (created on first request), SVG or PNG."""
    return qr_response(link_id, image_format)
