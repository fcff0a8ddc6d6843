"""The stats API under /api/v1: figures read from the day aggregates, and CSV exports."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Response, jsonify, request, stream_with_context

from shortener.exports import STATS_COLUMNS, csv_lines, hit_columns, hit_rows, stats_rows
from shortener.figures import DayRange, Stats, day_range, stats_for, today_of
from shortener.hits.reading import iter_hits
from shortener.links import Link, now_ms
from shortener.routes import lumen
from shortener.routes.api_requests import int_arg, require_api_key

bp = Blueprint("stats", __name__, url_prefix="/api/v1")
bp.before_request(require_api_key)


def requested_range() -> DayRange:
    """The `from`/`to` query parameters as a range of UTC days (the last 30 days by default)."""
    return day_range(request.args.get("from"), request.args.get("to"), today_of(now_ms()))


def _requested_stats(link: Link | None) -> tuple[Stats, dict[str, object]]:
    tag = request.args.get("tag") or None
    domain = request.args.get("domain") or None
    stats = stats_for(lumen().links, requested_range(), link=link, tag=tag, domain=domain)
    return stats, {"link": link.id if link else None, "tag": tag, "domain": domain}


def _requested_link() -> Link | None:
    link_id = int_arg("link", None, 1, 2**62)
    return None if link_id is None else lumen().links.get(link_id)


def _csv(lines: Iterable[str], filename: str) -> Response:
    return Response(
        lines,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/stats")
def get_stats() -> Response:
    """Stats of the instance, or of one link (`link`) or the links of a `tag` and/or `domain`."""
    stats, scope = _requested_stats(_requested_link())
    return jsonify({"scope": scope, **stats.as_json()})


@bp.get("/stats.csv")
def get_stats_csv() -> Response:
    """The same figures as /stats, one (section, date, name, value) row each."""
    stats, _ = _requested_stats(_requested_link())
    span = stats.range.as_json()
    return _csv(
        csv_lines(STATS_COLUMNS, stats_rows(stats)), f"lumen-stats-{span['from']}-{span['to']}.csv"
    )


@bp.get("/links/<int:link_id>/stats")
def get_link_stats(link_id: int) -> Response:
    """Stats of one link, its share variants included and listed one by one."""
    link = lumen().links.get(link_id)
    stats, scope = _requested_stats(link)
    return jsonify({"scope": scope, "link": link.as_json(), **stats.as_json()})


@bp.get("/hits.csv")
def get_hits_csv() -> Response:
    """Raw hits of the range, streamed from the capped streams: a link's in full, or all,
    compact."""
    ctx = lumen()
    link = _requested_link()  # an unknown link is a 404 before streaming starts
    days = requested_range()
    full = link is not None
    hits = iter_hits(ctx.redis, ctx.keys, days.start_ms(), days.end_ms(), link.id if link else None)
    lines = stream_with_context(csv_lines(hit_columns(full), hit_rows(hits, full)))
    span = days.as_json()
    return _csv(lines, f"lumen-hits-{span['from']}-{span['to']}.csv")
