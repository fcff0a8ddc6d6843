"""Each third-party parser stays behind one analytics module.

That the package imports no web framework, no database and nothing else of the project is
checked with the other layers in tests/test_layers.py and tests/test_imports.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "shortener" / "analytics"
MODULES = sorted(PACKAGE.glob("*.py"))
# Third-party parser → the one module allowed to import it.
OWNERS = {
    "ua_parser": "user_agents.py",
    "ua_parser_rs": "user_agents.py",
    "user_agents": "user_agents.py",
    "re2": "user_agents.py",
    "crawleruseragents": "user_agents.py",
    "tldextract": "referrers.py",
}
# Data read by name rather than imported → the one module allowed to name it.
DATA_OWNERS = {
    '"crawleruseragents"': "user_agents.py",
    '"user_agents.parsers"': "user_agents.py",
    '"referrers.json"': "referrers.py",
    '"shortener.analytics.data"': "referrers.py",
}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_package_has_modules() -> None:
    assert {path.name for path in MODULES} >= {
        "attribution.py",
        "referrers.py",
        "user_agents.py",
        "vocabulary.py",
    }


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_each_parser_behind_one_module(path: Path) -> None:
    strays = {
        root for root in _imported_roots(path) if root in OWNERS and OWNERS[root] != path.name
    }
    assert strays == set()


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_each_data_source_read_by_one_module(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    strays = {name for name, owner in DATA_OWNERS.items() if name in text and owner != path.name}
    assert strays == set()


def test_the_data_owners_do_name_their_data() -> None:
    for name, owner in DATA_OWNERS.items():
        assert name in (PACKAGE / owner).read_text(encoding="utf-8"), name
