"""The redirect: GET /<code> on a configured domain, answered first, recorded in the same trip."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
)
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.urls import iri_to_uri

from shortener.codes import RESERVED_WORDS, SLUG_PATTERN
from shortener.context import AppContext
from shortener.redirect import NO_STORE, Answer, Result, follow_code, request_domain
from shortener.routes import lumen
from shortener.routes.problems import unavailable

bp = Blueprint("redirect", __name__)

UNGUARDED_PATHS = ("/healthz", "/readyz", "/metrics")


@bp.before_app_request
def refuse_unknown_hosts() -> None:
    """Only configured domains are served: any other Host gets 404 and never a redirect."""
    if request.path in UNGUARDED_PATHS:
        return
    if request_domain(request.host) not in lumen().settings.all_domains:
        abort(404, description="This host is not a Lumen domain.")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask every short domain for an icon: answer it rather than count an orphan hit."""
    return send_from_directory(
        current_app.static_folder or "static",
        "favicon.svg",
        mimetype="image/svg+xml",
        max_age=86_400,
    )


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawlers may follow short links (recorded as bots), not read the API or the dashboard."""
    body = "User-agent: *\nDisallow: /api/\nDisallow: /dashboard\n"
    return Response(body, mimetype="text/plain", headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/")
def home() -> Response:
    """The bare short domain sends people to the dashboard."""
    return redirect("/dashboard", code=302)  # type: ignore[return-value]


@bp.route("/<code>", methods=["GET", "HEAD"])
def follow(code: str) -> Response:
    """Send the visitor on and record the hit (HEAD is answered, not counted).

    The fast path below has usually worked the request out already and left its result in the
    environ; otherwise (a request reaching Flask without it) the same steps run here.
    """
    result = request.environ.pop(RESULT_KEY, None) or follow_code(lumen(), request.environ, code)
    return render_result(result)


def render_result(result: Result) -> Response:
    """The HTTP answer of a redirect's result: a bare 30x, or a page."""
    if result.answer is Answer.REDIRECT:
        response = Response(status=result.status, headers=result.redirect_headers())
        del response.headers["Content-Type"]  # an empty body has no type (the fast path sends none)
        return response
    if result.answer is Answer.GONE:
        page = render_template("gone.html", reason=result.gone_reason)
        return make_response(page, 410, {"Cache-Control": NO_STORE})
    if result.answer is Answer.UNAVAILABLE:
        return unavailable()
    abort(404, description="This short link does not exist. Check the address for typos.")


# Where the fast path leaves a result it does not render itself, for `follow` to render.
RESULT_KEY = "lumen.redirect_result"


class RedirectFastPath:
    """WSGI layer that takes GET or HEAD /<code> away from Flask's request machinery (its context,
    hooks and Response object cost about a third of a redirect, measured: docs/PERFORMANCE.md).

    It runs `follow_code` once and answers a redirect itself; any other result (unknown code, gone
    link, unknown host, Redis unavailable) goes on to Flask with the result in the environ, so
    Flask renders its page without doing any step again. Every other request goes to Flask as is.
    """

    def __init__(self, app: Flask, ctx: AppContext) -> None:
        self.app = app.wsgi_app
        self.ctx = ctx
        # Single-segment paths Flask serves itself (health checks, robots.txt…) are never codes.
        self.own_paths = (
            frozenset(
                rule.rule.strip("/").lower()
                for rule in app.url_map.iter_rules()
                if "<" not in rule.rule
            )
            | RESERVED_WORDS
        )

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        code = environ.get("PATH_INFO", "")[1:]
        if (
            method in ("GET", "HEAD")
            and SLUG_PATTERN.fullmatch(code)
            and code.lower() not in self.own_paths
        ):
            result = follow_code(self.ctx, environ, code)
            if result.answer is Answer.REDIRECT:
                start_response(
                    f"{result.status} {HTTP_STATUS_CODES[result.status]}",
                    [("Location", _ascii_url(result.location)), *result.redirect_headers()[1:]],
                )
                return [b""]
            environ[RESULT_KEY] = result
        return self.app(environ, start_response)


def _ascii_url(url: str) -> str:
    """A Location header value: WSGI headers are Latin-1, so an IRI is sent as its URI."""
    return url if url.isascii() else iri_to_uri(url)
