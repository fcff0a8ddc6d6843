"""The dashboard under /dashboard: sign-in with an API key, the overview, links, and link detail.

Server-rendered; every asset is Lumen's own. A session is Flask's signed cookie (HttpOnly,
SameSite=Lax, Secure whenever the request came over HTTPS) holding the SHA-256 of the API key and
a sign-in id kept in Redis; each request checks both, so signing out (which deletes the sign-in)
or revoking the key ends the session even for a copied cookie. Every form
carries a token bound to the session (CSRF), checked on every POST. Figures are refreshed every
`DASHBOARD_REFRESH_SECONDS` (10) by static/dashboard.js, which fetches the page's `?partial=1`.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from shortener import charts
from shortener.analytics.vocabulary import CHANNELS
from shortener.apikeys import (
    ApiKey,
    close_sign_in,
    key_digest,
    open_sign_in,
    signed_in_key,
    verify_api_key,
)
from shortener.errors import InvalidInput, LumenError, NotFound
from shortener.figures import (
    DEFAULT_RANGE_DAYS,
    DayRange,
    Stats,
    day_range,
    last_days,
    select_links,
    stats_for,
    today_of,
)
from shortener.hits.reading import recent_hits
from shortener.links import Link, now_ms
from shortener.qrcodes import QR_CHANNEL, render_link_qr
from shortener.routes import lumen

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

PRESETS = ("7", "30", "90")
LIST_LIMIT = 200
SORTS = {
    "newest": ("Newest first", lambda link: -link.id),
    "oldest": ("Oldest first", lambda link: link.id),
    "clicks": ("Most clicks", lambda link: (-link.human, -link.id)),
    "title": ("Title", lambda link: ((link.title or link.url).lower(), -link.id)),
}
CREATE_FIELDS = ("url", "slug", "domain", "title", "tags", "expires_at")
# Offered first when adding a share link; every other channel follows in alphabetical order.
COMMON_CHANNELS = (
    "whatsapp",
    "sms",
    "email",
    "messenger",
    "telegram",
    "signal",
    "imessage",
    "slack",
    "facebook",
    "twitter",
    "linkedin",
    "qr",
    "copy",
)
# The dashboard shows figures (a key needs `stats:read`) and its forms change links (`links:write`:
# the buttons are hidden and the POSTs refused without it); signing in and out need no scope.
READ_SCOPE = "stats:read"
WRITE_SCOPE = "links:write"
UNSCOPED_POSTS = frozenset({"dashboard.login", "dashboard.logout"})
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class DashboardSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, marked Secure whenever the request itself came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or request.is_secure

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # Without a cookie there is nothing to verify: skip building the signer on every redirect.
        if "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _is_partial() -> bool:
    return request.args.get("partial") == "1"


@bp.before_request
def check_session() -> BaseResponse | None:
    """POSTs need the session's CSRF token; every page but sign-in needs a live API key."""
    if request.method == "POST":
        sent = request.form.get("csrf_token", "")
        if not session.get("csrf") or not hmac.compare_digest(
            sent.encode(), str(session["csrf"]).encode()
        ):
            abort(
                400,
                description=(
                    "This form has expired or did not come from Lumen. Reload the page and "
                    "try again."
                ),
            )
    if request.endpoint == "dashboard.login":
        return None
    api_key = _session_key()
    if api_key is None or not api_key.allows(READ_SCOPE):
        session.pop("key", None)
        session.pop("sign_in", None)
        if _is_partial():
            return Response("Signed out", status=401, mimetype="text/plain")
        return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
    g.user = api_key.name
    g.can_write = api_key.allows(WRITE_SCOPE)
    if request.method == "POST" and request.endpoint not in UNSCOPED_POSTS and not g.can_write:
        abort(
            403,
            description=f"The API key {api_key.name!r} may read but not change links: "
            f"this needs the scope {WRITE_SCOPE!r}.",
        )
    return None


def _session_key() -> ApiKey | None:
    """The key the session's live sign-in was made with, or None."""
    digest, sign_in = session.get("key"), session.get("sign_in")
    if not isinstance(digest, str) or not isinstance(sign_in, str):
        return None
    ctx = lumen()
    return signed_in_key(ctx.redis, ctx.keys, sign_in, digest)


@bp.after_request
def protect(response: Response) -> Response:
    """No caching, no framing, no script or style from anywhere but Lumen."""
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def helpers() -> dict[str, object]:
    """What every dashboard template may use."""
    return {
        "csrf_token": _csrf_token,
        "meter": charts.meter,
        "number": _number,
        "percent": _percent,
        "ratio": _ratio,
        "iso_time": _iso_time,
        "source_colors": charts.SOURCE_COLORS,
        "source_labels": charts.SOURCE_LABELS,
        "refresh_seconds": current_app.config.get("DASHBOARD_REFRESH_SECONDS", 10),
        "user": g.get("user"),
        "can_write": g.get("can_write", False),
    }


def _number(value: int) -> str:
    return f"{value:,}"


def _iso_time(millis: int) -> str:
    return datetime.fromtimestamp(millis / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} : 1"


def _safe_next(target: str | None) -> str:
    """Only a dashboard path is a place to go back to after signing in (no open redirect)."""
    if (
        target
        and target.startswith("/dashboard")
        and "\\" not in target
        and "//" not in target
        and all(ch.isprintable() and not ch.isspace() for ch in target)  # no CR/LF, no controls
    ):
        return target
    return url_for("dashboard.overview")


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | tuple[str, int]:
    """Sign in with an API key."""
    target = _safe_next(request.values.get("next"))
    ctx = lumen()
    if request.method == "POST":
        key = request.form.get("api_key", "").strip()
        api_key = verify_api_key(ctx.redis, ctx.keys, key)
        if api_key is not None and not api_key.allows(READ_SCOPE):
            error = f"This key lacks the scope {READ_SCOPE!r} the dashboard needs to show figures."
            return render_template("dashboard/login.html", error=error, next=target), 403
        if api_key is not None:
            session.clear()
            lifetime = current_app.permanent_session_lifetime.total_seconds()
            session["key"] = digest = key_digest(key)
            session["sign_in"] = open_sign_in(ctx.redis, ctx.keys, digest, int(lifetime))
            session["csrf"] = secrets.token_urlsafe(32)
            return redirect(target)
        error = "This is not a valid API key. Create one with: python -m shortener keys create NAME"
        return render_template("dashboard/login.html", error=error, next=target), 401
    signed_in = _session_key()
    if signed_in is not None and signed_in.allows(READ_SCOPE):
        return redirect(target)
    return render_template("dashboard/login.html", error=None, next=target), 200


@bp.post("/logout")
def logout() -> BaseResponse:
    """Sign out: the sign-in is deleted in Redis (a copy of the cookie stops working too)."""
    sign_in = session.get("sign_in")
    if isinstance(sign_in, str):
        ctx = lumen()
        close_sign_in(ctx.redis, ctx.keys, sign_in)
    session.clear()
    return redirect(url_for("dashboard.login"))


def _requested_range() -> tuple[DayRange, str, str | None]:
    """The range asked for (preset or custom), its preset name, and an error to show, if any."""
    today = today_of(now_ms())
    start, end = request.args.get("from"), request.args.get("to")
    if start or end:
        try:
            return day_range(start, end, today), "custom", None
        except InvalidInput as error:
            return last_days(DEFAULT_RANGE_DAYS, today), "30", error.detail
    preset = request.args.get("range", "30")
    if preset not in PRESETS:
        return (
            last_days(DEFAULT_RANGE_DAYS, today),
            "30",
            "range must be 7, 30 or 90 days, or a custom from/to",
        )
    return last_days(int(preset), today), preset, None


def _range_links(preset: str, keep: Mapping[str, str]) -> list[tuple[str, str, bool]]:
    """(label, href, active) of the preset ranges, keeping other query parameters."""
    return [(f"{n} days", "?" + urlencode({**keep, "range": n}), preset == n) for n in PRESETS]


def _figure_charts(stats: Stats) -> dict[str, Markup]:
    dates = [day.day for day in stats.series]
    return {
        "days": charts.stacked_days(
            dates,
            [day.sources for day in stats.series],
            list(charts.SOURCE_COLORS),
            charts.SOURCE_COLORS,
            charts.SOURCE_LABELS,
            caption="Human clicks per day, stacked by source",
        ),
        "evidence": charts.split_bar(
            [
                (charts.EVIDENCE_LABELS[e], charts.EVIDENCE_COLORS[e], n)
                for e, n in stats.dark_evidence.items()
            ],
            caption="Dark clicks by the evidence that decided them",
        ),
        "private_public": charts.split_bar(
            [
                ("private (dark social)", charts.SOURCE_COLORS["dark"], stats.totals.dark),
                ("public", charts.PUBLIC_COLOR, stats.totals.public),
            ],
            caption="Private and public human clicks",
        ),
    }


def _render(template: str, partial_template: str, status: int = 200, **context: object) -> Response:
    name = partial_template if _is_partial() else template
    return make_response(render_template(name, **context), status)


@bp.get("/")
def overview() -> Response:
    """The instance's dark share, clicks, shares, channels and top links for a range."""
    days, preset, error = _requested_range()
    tag = request.args.get("tag", "").strip().lower()
    stats = stats_for(lumen().links, days, tag=tag or None)
    keep = {"tag": tag} if tag else {}
    return _render(
        "dashboard/overview.html",
        "dashboard/_overview_live.html",
        422 if error else 200,
        stats=stats,
        charts=_figure_charts(stats),
        preset=preset,
        ranges=_range_links(preset, keep),
        range_error=error,
        tag=tag,
        keep=keep,
    )


def _create_payload(form: Mapping[str, str]) -> dict[str, object]:
    """The create form as an API payload: empty fields left out (a datetime-local expiry is UTC)."""
    return {name: form[name].strip() for name in CREATE_FIELDS if form.get(name, "").strip()}


@bp.route("/links", methods=["GET", "POST"])
def links() -> BaseResponse:
    """Searchable, sortable list of links, and the form that creates one."""
    ctx = lumen()
    form: dict[str, str] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = {name: request.form.get(name, "") for name in CREATE_FIELDS}
        try:
            link = ctx.links.create(_create_payload(form))
        except LumenError as error:
            errors[error.field if error.field in CREATE_FIELDS else "url"] = error.detail
            status = error.status
        else:
            return redirect(url_for("dashboard.link_detail", link_id=link.id))
    query = request.args.get("q", "").strip()
    tag = request.args.get("tag", "").strip().lower()
    sort = request.args.get("sort", "newest")
    if sort not in SORTS:
        sort = "newest"
    found = select_links(ctx.links, tag=tag or None, query=query or None)
    found.sort(key=SORTS[sort][1])
    return make_response(
        render_template(
            "dashboard/links.html",
            links=found[:LIST_LIMIT],
            total=len(found),
            limit=LIST_LIMIT,
            query=query,
            tag=tag,
            sort=sort,
            sorts={name: label for name, (label, _) in SORTS.items()},
            domains=ctx.settings.link_domains,
            default_domain=ctx.settings.primary_domain,
            form=form,
            errors=errors,
        ),
        status,
    )


def _link_or_404(link_id: int) -> Link:
    try:
        return lumen().links.get(link_id)
    except NotFound:
        abort(404, description=f"There is no link with id {link_id}. It may have been deleted.")


def _link_page(link: Link, *, variant_error: str | None = None, status: int = 200) -> Response:
    ctx = lumen()
    # The QR code shown and downloaded is the `qr` share variant's, so scans are counted apart.
    qr_variant, _ = ctx.links.add_variant(link.id, QR_CHANNEL)
    qr_url = str(qr_variant.as_json()["short_url"])
    days, preset, error = _requested_range()
    stats = stats_for(ctx.links, days, link=link)
    return _render(
        "dashboard/link.html",
        "dashboard/_link_live.html",
        422 if error else status,
        link=link,
        stats=stats,
        charts=_figure_charts(stats),
        preset=preset,
        ranges=_range_links(preset, {}),
        range_error=error,
        keep={},
        recent=recent_hits(ctx.redis, ctx.keys, link.id, 20),
        qr=charts.qr_code(qr_url),
        qr_url=qr_url,
        variant_error=variant_error,
        channels=[
            c
            for c in (*COMMON_CHANNELS, *sorted(set(CHANNELS) - set(COMMON_CHANNELS)))
            if c not in {v.channel for v in stats.variants or ()}
        ],
    )


@bp.get("/links/<int:link_id>")
def link_detail(link_id: int) -> Response:
    """One link: its figures, share variants, QR code and latest hits."""
    return _link_page(_link_or_404(link_id))


@bp.post("/links/<int:link_id>/variants")
def add_variant(link_id: int) -> BaseResponse:
    """Create (or find) the link's share variant for a channel."""
    link = _link_or_404(link_id)
    try:
        lumen().links.add_variant(link.id, request.form.get("channel", ""))
    except InvalidInput as error:
        return _link_page(link, variant_error=error.detail, status=422)
    return redirect(url_for("dashboard.link_detail", link_id=link.id) + "#variants")


@bp.get("/links/<int:link_id>/qr.<any(svg, png):image_format>")
def download_qr(link_id: int, image_format: str) -> Response:
    """The link's QR code (its `qr` share variant) as an SVG or PNG download."""
    link = _link_or_404(link_id)
    picture = render_link_qr(lumen().links, link.id, image_format)
    return Response(
        picture.data,
        mimetype=picture.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="lumen-{link.id}-qr.{image_format}"'
        },
    )
