"""Importing a piece of Lumen loads that piece: no web framework below the routes, and the
attribution rules with nothing else of the project.

Each import runs in a fresh interpreter, so what it loads is seen whole (a check of one file's
import lines cannot see what those imports import in turn).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.layers import (
    ANALYTICS,
    DOMAIN,
    FORBIDDEN_PACKAGES,
    ROOT,
    STORE,
    layer_of,
    package_modules,
)

BELOW_THE_ROUTES = [m for m in package_modules() if layer_of(m) in (DOMAIN, STORE, ANALYTICS)]


def loaded_by(module: str) -> set[str]:
    """The names in sys.modules after importing `module` into a fresh interpreter."""
    script = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return set(json.loads(run.stdout))


def roots(modules: set[str]) -> set[str]:
    """The top-level packages among module names."""
    return {name.split(".")[0] for name in modules}


def test_every_layer_below_the_routes_is_checked() -> None:
    assert {layer_of(m) for m in BELOW_THE_ROUTES} == {DOMAIN, STORE, ANALYTICS}
    assert "shortener.analytics" in BELOW_THE_ROUTES
    assert "shortener.links" in BELOW_THE_ROUTES


@pytest.mark.parametrize("module", BELOW_THE_ROUTES)
def test_importing_loads_no_forbidden_package(module: str) -> None:
    layer = layer_of(module)
    assert layer is not None
    assert roots(loaded_by(module)) & FORBIDDEN_PACKAGES[layer] == set()


@pytest.mark.parametrize(
    "module", [m for m in BELOW_THE_ROUTES if layer_of(m) == ANALYTICS] + ["shortener"]
)
def test_analytics_loads_nothing_else_of_the_project(module: str) -> None:
    project = {m for m in loaded_by(module) if roots({m}) & {"shortener", "config"}}
    assert {m for m in project if layer_of(m) != ANALYTICS} <= {"shortener"}


def test_the_checks_see_flask_where_it_is() -> None:
    assert "flask" in roots(loaded_by("shortener.routes"))
