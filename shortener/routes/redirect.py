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
from shortener.domain_pages import load_domain_pages
from shortener.redirect import NO_STORE, Answer, Result, follow_code, request_domain
from shortener.routes import RateLimit, client_key, lumen
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
    """The bare short domain sends people to its root URL when one is set, else the dashboard."""
    ctx = lumen()
    pages = load_domain_pages(ctx.redis, ctx.keys, request_domain(request.host))
    response = redirect(pages.root_url or "/dashboard", code=302)
    response.headers["Cache-Control"] = NO_STORE
    return response  # type: ignore[return-value]


@bp.route("/<code>", methods=["GET", "HEAD"])
def follow(code: str) -> Response:
    """Send the visitor on and record the hit (HEAD is answered, not counted).

    The fast path below has usually worked the request out already and left its result in the
    environ; otherwise (a request reaching Flask without it) the same steps run here.
    """
    result = request.environ.pop(RESULT_KEY, None) or follow_code(lumen(), request.environ, code)
    return render_result(result)


@bp.post("/<code>")
def unlock(code: str) -> Response:
    """The password form of a protected link: the right password redirects (303) and counts the
    click; wrong guesses are limited per client address and link."""
    ctx = lumen()
    ref = ctx.links.resolve(request_domain(request.host), code)
    if ref is None:
        abort(404, description="This short link does not exist. Check the address for typos.")
    request.max_content_length = MAX_PASSWORD_FORM_BYTES
    guesses: RateLimit = current_app.extensions["lumen_password_guesses"]
    who = (client_key(), str(ref.link_id))
    if guesses.is_exceeded(*who):
        return _password_form(429, "Too many wrong passwords. Try again later.")
    password = request.form.get("password", "")
    if not ctx.links.check_password(ref.link_id, password):
        guesses.hit(*who)
        return _password_form(403, "That password is not right.")
    return render_result(follow_code(ctx, request.environ, code, unlocked=True))


def limit_password_guesses(
    app: Flask, storage: tuple[str, dict[str, float | str | bool]], rate: str, key_prefix: str
) -> None:
    """Limit the wrong guesses of link passwords per client address and link."""
    app.extensions["lumen_password_guesses"] = RateLimit.build(storage, rate, key_prefix)


def _password_form(status: int, error: str = "") -> Response:
    action = request.full_path if request.query_string else request.path
    page = render_template("password.html", action=action, error=error)
    return make_response(page, status, {"Cache-Control": NO_STORE, **LINK_PAGE_HEADERS})


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
    if result.answer is Answer.PREVIEW:
        page = render_template("preview.html", preview=result.preview, short_url=result.short_url)
        return make_response(page, 200, {"Cache-Control": NO_STORE, **LINK_PAGE_HEADERS})
    if result.answer is Answer.PASSWORD:
        return _password_form(200)
    if result.answer is Answer.UNKNOWN and result.location:
        return Response(status=302, headers=result.redirect_headers())
    abort(404, description="This short link does not exist. Check the address for typos.")


# The preview and password pages load Lumen's stylesheet, nothing else, and run no script. No
# form-action: the password form's answer is a redirect to the link's target, on another origin
# (browsers apply form-action to that redirect too); an error page's `form-action 'none'` would
# block a second try after a wrong password.
LINK_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
# A password form's body is a few hundred bytes; anything much larger is refused (413).
MAX_PASSWORD_FORM_BYTES = 4096
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
