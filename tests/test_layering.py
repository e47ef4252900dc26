"""The package's layers: request → route → domain → event log → consumers → socket and mail, with
nothing below importing what is above it. Imports only for type checking do not count."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "helpdesk"
CORE = {"models", "errors", "encoding", "sql", "config", "allowances", "broker", "db", "assets"}
CORE |= {"sqlite_backend", "migrations", "storage", "uploads"}
# What each part may import besides itself. Entry points (app, cli, server, seed) and analytics,
# a slice of its own with a page, an API and a stand-alone app, may import anything.
ALLOWED = {
    "core": {"core"},
    "domain": {"core"},
    "schemas": {"core", "domain"},
    "consumers": {"core", "domain", "schemas"},
    "mail": {"core", "domain", "schemas", "consumers"},
    "web": {"core", "domain", "schemas"},
    "live": {"core", "domain", "schemas", "web"},
    "api": {"core", "domain", "schemas", "web", "mail"},
    "pages": {"core", "domain", "schemas", "web", "mail"},
}


def part_of(module: str) -> str:
    top = module.split(".")[0]
    return "core" if top in CORE else top


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imported_modules(path: Path) -> set[str]:
    """Modules of this package that `path` imports, as dotted names below `helpdesk`."""
    relative = path.relative_to(PACKAGE).with_suffix("")
    package = list(relative.parts[:-1])
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node):
                visit(node.orelse)
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    target = [*base, *(node.module.split(".") if node.module else [])]
                    if node.module is None:
                        found.update(".".join([*base, alias.name]) for alias in node.names)
                    elif target:
                        found.add(".".join(target))
                elif node.module and node.module.startswith("helpdesk."):
                    found.add(node.module.removeprefix("helpdesk."))
            elif isinstance(node, ast.Import):
                found.update(
                    alias.name.removeprefix("helpdesk.")
                    for alias in node.names
                    if alias.name.startswith("helpdesk.")
                )
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    visit([child])

    visit(ast.parse(path.read_text()).body)
    return {module for module in found if module}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_module_imports_a_layer_above_its_own(path):
    part = part_of(".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    if part not in ALLOWED:
        return  # an entry point or analytics: may use every layer
    allowed = ALLOWED[part] | {part}
    wrong = sorted(m for m in imported_modules(path) if part_of(m) not in allowed)
    assert not wrong, f"{part} must not import {wrong}"


def test_the_walk_sees_relative_and_nested_imports_but_not_type_checking_ones():
    imported = imported_modules(PACKAGE / "domain" / "tickets.py")
    assert {"models", "domain.events"} <= imported
    assert "live.hub" not in imported_modules(PACKAGE / "web" / "context.py")  # TYPE_CHECKING
    assert part_of("models") == "core" and part_of("live.hub") == "live"
