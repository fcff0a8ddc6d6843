"""QR code downloads of a link: SVG or PNG of its `qr` share variant, so scans count apart."""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno

from shortener.errors import InvalidInput
from shortener.links import LinkStore, Variant

QR_CHANNEL = "qr"
# Pixels per module; segno's own default is 1, far too small to print.
DEFAULT_SCALE = 8
MAX_SCALE = 40
# Width of the quiet zone in modules; ISO/IEC 18004 asks for 4, scanners often cope with less.
DEFAULT_MARGIN = 4
MAX_MARGIN = 16
MIN_SIZE, MAX_SIZE = 64, 4096
MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


@dataclass(frozen=True, slots=True)
class QrPicture:
    """A rendered QR code and the variant whose short URL it encodes."""

    data: bytes
    media_type: str
    variant: Variant


def qr_scale(size: int | None, scale: int | None, margin: int, code: segno.QRCode) -> int:
    """Pixels per module: `scale` as given, or the largest that keeps the image within `size` px.

    >>> code = segno.make("https://go.test/abcde", error="m")  # 25 modules, 33 with the margin
    >>> qr_scale(None, None, 4, code), qr_scale(200, None, 4, code), qr_scale(None, 3, 4, code)
    (8, 6, 3)
    """
    if size is not None and scale is not None:
        raise InvalidInput("send size or scale, not both", field="size")
    if size is None:
        return scale or DEFAULT_SCALE
    modules = code.symbol_size(scale=1, border=margin)[0]
    if modules > size:
        raise InvalidInput(f"size must be at least {modules} pixels for this code", field="size")
    return int(size // modules)


def render_link_qr(
    links: LinkStore,
    link_id: int,
    image_format: str,
    *,
    margin: int = DEFAULT_MARGIN,
    size: int | None = None,
    scale: int | None = None,
) -> QrPicture:
    """The QR code of the link's `qr` variant (created on first request) as SVG or PNG bytes."""
    variant, _ = links.add_variant(link_id, QR_CHANNEL)
    url = str(variant.as_json()["short_url"])
    code = segno.make(url, error="m")
    pixels = qr_scale(size, scale, margin, code)
    out = io.BytesIO()
    if image_format == "svg":
        code.save(out, kind="svg", scale=pixels, border=margin, title=f"QR code of {url}")
    else:
        code.save(out, kind="png", scale=pixels, border=margin)
    return QrPicture(out.getvalue(), MEDIA_TYPES[image_format], variant)
