"""Lumen's layers: where each module of the package sits, and which layers each may import.

    composition (app, cli, boot, demo)  builds and runs the app; may import anything
    routes      (shortener/routes/)     thin Flask blueprints; import the domain, never the store
    domain      (links, hits, figures…) the rules of the product; no Flask
    store       (store, embedded_redis) Redis keys, scripts and the server; no domain module
    analytics   (shortener/analytics/)  pure attribution rules; nothing else of the project
    settings    (config.py)             the one reader of the environment

`tests/test_layers.py` checks every import of the package against `MAY_IMPORT`, and
`tests/test_imports.py` checks what importing a module really loads.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "shortener"

COMPOSITION = "composition"
ROUTES = "routes"
DOMAIN = "domain"
STORE = "store"
ANALYTICS = "analytics"
SETTINGS = "settings"

# Which layers a module of each layer may import (its own included).
MAY_IMPORT = {
    COMPOSITION: {COMPOSITION, ROUTES, DOMAIN, STORE, ANALYTICS, SETTINGS},
    ROUTES: {ROUTES, DOMAIN, ANALYTICS, SETTINGS},
    DOMAIN: {DOMAIN, STORE, ANALYTICS, SETTINGS},
    STORE: {STORE, SETTINGS},
    ANALYTICS: {ANALYTICS},
    SETTINGS: set(),
}

# Modules placed by name; the rest by their folder (routes/, analytics/, hits/). A new module at
# the top of the package must be added here, so that its layer is a decision.
MODULE_LAYERS = {
    "config": SETTINGS,
    # The package's own __init__ is empty: importing it loads nothing.
    "shortener": COMPOSITION,
    "shortener.__main__": COMPOSITION,
    "shortener.app": COMPOSITION,
    "shortener.boot": COMPOSITION,
    "shortener.cli": COMPOSITION,
    "shortener.demo": COMPOSITION,
    "shortener.store": STORE,
    "shortener.embedded_redis": STORE,
    "shortener.apikeys": DOMAIN,
    "shortener.bulk": DOMAIN,
    "shortener.cache_events": DOMAIN,
    "shortener.migration": DOMAIN,
    "shortener.charts": DOMAIN,
    "shortener.codes": DOMAIN,
    "shortener.context": DOMAIN,
    "shortener.destinations": DOMAIN,
    "shortener.domain_pages": DOMAIN,
    "shortener.errors": DOMAIN,
    "shortener.exports": DOMAIN,
    "shortener.failures": DOMAIN,
    "shortener.figures": DOMAIN,
    "shortener.link_cache": DOMAIN,
    "shortener.logs": DOMAIN,
    "shortener.metrics": DOMAIN,
    "shortener.links": DOMAIN,
    "shortener.openapi": DOMAIN,
    "shortener.passwords": DOMAIN,
    "shortener.publishers": DOMAIN,
    "shortener.qrcodes": DOMAIN,
    "shortener.redirect": DOMAIN,
    "shortener.shares": DOMAIN,
    "shortener.validation": DOMAIN,
    "shortener.webhooks": DOMAIN,
}
FOLDER_LAYERS = {
    "shortener.routes": ROUTES,
    "shortener.analytics": ANALYTICS,
    "shortener.hits": DOMAIN,
}

# Third-party packages a layer must not import: the web framework stays in the routes and the
# composition layer, and the rules stay free of any database or event loop. (markupsafe, the
# escaping library, is no framework: charts.py builds escaped SVG with it.)
FORBIDDEN_PACKAGES = {
    DOMAIN: {"flask", "werkzeug", "jinja2"},
    STORE: {"flask", "werkzeug", "jinja2"},
    ANALYTICS: {"flask", "werkzeug", "jinja2", "redis", "hiredis", "gevent"},
}


def module_name(path: Path) -> str:
    """The dotted name of a source file of the project (`shortener/hits/reading.py` → ...)."""
    parts = list(path.resolve().relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> list[str]:
    """Every module of the `shortener` package, by name."""
    return sorted(module_name(path) for path in PACKAGE.rglob("*.py"))


def layer_of(module: str) -> str | None:
    """The layer of a project module, or None when it has not been placed."""
    if module in MODULE_LAYERS:
        return MODULE_LAYERS[module]
    for folder, layer in FOLDER_LAYERS.items():
        if module == folder or module.startswith(folder + "."):
            return layer
    return None
