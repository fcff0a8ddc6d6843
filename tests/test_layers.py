"""Arrows point one way: every import of the package is checked against the layer table.

routes → domain → store and analytics; analytics imports nothing else of the project; the store
imports no domain module; blueprints do not import each other (a routes module without a
blueprint, such as `routes/__init__.py` or `routes/problems.py`, holds shared helpers). The
layers and the rules are in `tests/layers.py`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.layers import (
    FORBIDDEN_PACKAGES,
    MAY_IMPORT,
    PACKAGE,
    ROOT,
    ROUTES,
    layer_of,
    module_name,
    package_modules,
)

SOURCES = sorted(PACKAGE.rglob("*.py"))
PROJECT_ROOTS = ("shortener", "config")


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to a module name."""

    module: str
    line: int
    target: str


def imports_of(importer: str, is_package: bool, source: str, known: set[str]) -> list[Import]:
    """Every module `source` imports (relative imports resolved, `from pkg import module` too)."""
    package = importer if is_package else importer.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(importer, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                target = submodule if submodule in known else base
                found.append(Import(importer, node.lineno, target))
    return found


def is_blueprint_module(path: Path) -> bool:
    """Whether a routes module defines a blueprint (`bp = Blueprint(...)`)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            call = node.value.func
            if isinstance(call, ast.Name) and call.id == "Blueprint":
                return True
    return False


def broken_rule(found: Import, blueprints: set[str]) -> str | None:
    """Which rule an import breaks, or None when the layers allow it."""
    layer, root = layer_of(found.module), found.target.split(".")[0]
    if root not in PROJECT_ROOTS:
        if layer is not None and root in FORBIDDEN_PACKAGES.get(layer, set()):
            return f"the {layer} layer does not import {root}"
        return None
    target_layer = layer_of(found.target)
    if layer is None or target_layer is None:
        return "every module of the project has a layer (add it to tests/layers.py)"
    if target_layer not in MAY_IMPORT[layer]:
        allowed = ", ".join(sorted(MAY_IMPORT[layer])) or "nothing of the project"
        return f"the {layer} layer may import only: {allowed}; not the {target_layer} layer"
    if layer == ROUTES and found.target in blueprints and found.target != found.module:
        return "blueprints do not import each other (shared helpers go in a module without a bp)"
    return None


BLUEPRINTS = {module_name(p) for p in SOURCES if "routes" in p.parts and is_blueprint_module(p)}
KNOWN = {*package_modules(), "config"}


def violations(path: Path, source: str) -> list[str]:
    """One line per import of `source` (the text of `path`) that breaks a rule: where, the
    importing module, the imported module and the rule."""
    importer = module_name(path)
    lines: dict[str, None] = {}  # one line per import statement and module, in order
    for found in imports_of(importer, path.name == "__init__.py", source, KNOWN):
        rule = broken_rule(found, BLUEPRINTS)
        if rule is not None:
            where = f"{path.relative_to(ROOT)}:{found.line}"
            lines[f"{where} ({importer}) imports {found.target}: {rule}"] = None
    return list(lines)


def test_every_module_has_a_layer() -> None:
    assert [m for m in package_modules() if layer_of(m) is None] == []


def test_the_package_keeps_its_layers() -> None:
    broken = [line for path in SOURCES for line in violations(path, path.read_text("utf-8"))]
    assert not broken, "imports against the layers:\n" + "\n".join(broken)


@pytest.mark.parametrize(
    ("module", "source", "rule"),
    [
        ("store.py", "from shortener.links import LinkStore", "the store layer may import only"),
        ("links.py", "from flask import request", "the domain layer does not import flask"),
        ("links.py", "from shortener.routes import lumen", "the domain layer may import only"),
        ("analytics/referrers.py", "from shortener import errors", "the analytics layer may"),
        ("analytics/referrers.py", "from .. import errors", "the analytics layer may import only"),
        ("analytics/referrers.py", "import redis", "the analytics layer does not import redis"),
        ("routes/stats.py", "from shortener.store import Keys", "the routes layer may import"),
        ("routes/stats.py", "from shortener.routes import api", "blueprints do not import each"),
        ("routes/stats.py", "from .dashboard import bp", "blueprints do not import each other"),
        ("routes/problems.py", "from shortener.routes.api import bp", "blueprints do not import"),
        ("codes.py", "from shortener.demo import DAYS", "the domain layer may import only"),
    ],
)
def test_a_wrong_import_is_named(module: str, source: str, rule: str) -> None:
    """The check fails on each kind of wrong arrow and names the import (one line added to a
    module's real text)."""
    path = PACKAGE / module
    text = path.read_text(encoding="utf-8") + f"\n{source}\n"
    line = len(text.splitlines())
    broken = [v for v in violations(path, text) if v.startswith(f"shortener/{module}:{line} (")]
    assert len(broken) == 1, broken
    assert broken[0].startswith(f"shortener/{module}:{line} (") and rule in broken[0], broken
