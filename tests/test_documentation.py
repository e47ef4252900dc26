"""The README and docs/ name only tests that exist, so the threat model never points at nothing."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CODE_SPAN = re.compile(r"`([^`]+)`")
# A table cell ends at a `|` that is not escaped (`\|` stays inside the cell, as in code spans).
CELL_BORDER = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class Reference:
    """A test a document names: a path (None: a `::name` with no path before it in its cell)
    and the names after it (a function, a class, or `Class::method`)."""

    document: str
    line: int
    path: str | None
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.document}:{self.line}: {'::'.join((self.path or '', *self.names))}"


def references_in(document: Path) -> list[Reference]:
    """Every backticked `tests/...` path or `path::name`, and every `::name`, which continues
    the last path named in the same table cell (or line, outside tables)."""
    found = []
    for number, line in enumerate(document.read_text().splitlines(), start=1):
        for cell in CELL_BORDER.split(line):
            path = None
            for span in CODE_SPAN.findall(cell):
                head, separator, tail = span.partition("::")
                names = tuple(tail.split("::")) if separator else ()
                if head.startswith("tests/"):
                    path = head
                elif head or not tail:
                    continue
                found.append(Reference(document.name, number, path, names))
    return found


@cache
def defined_in(module: Path) -> dict[str, set[str]]:
    """Top-level functions and classes of a module, each with the methods it defines."""
    tree = ast.parse(module.read_text(), filename=str(module))
    defined: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            defined[node.name] = set()
        elif isinstance(node, ast.ClassDef):
            defined[node.name] = {
                child.name
                for child in node.body
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            }
    return defined


def missing(reference: Reference, root: Path = ROOT) -> str | None:
    """Why the reference points at nothing, or None when what it names exists."""
    if reference.path is None:
        return "no test file is named before it in its cell"
    target = root / reference.path
    if not target.exists():
        return "no such file or folder"
    if not reference.names:
        return None
    if target.suffix != ".py" or not target.is_file():
        return "names a test in something that is not a Python file"
    defined = defined_in(target)
    first, *rest = reference.names
    if first not in defined:
        return f"{reference.path} defines no {first}"
    if rest and (len(rest) > 1 or rest[0] not in defined[first]):
        return f"{first} in {reference.path} has no {'::'.join(rest)}"
    return None


def all_references() -> list[Reference]:
    return [reference for document in DOCUMENTS for reference in references_in(document)]


def test_the_threat_model_names_tests():
    named = [r for r in all_references() if r.document == "SECURITY.md" and r.names]
    assert len(named) > 20, "the threat model's test column was not read"


def test_every_test_the_documents_name_exists():
    dangling = [
        f"{reference}: {why}"
        for reference in all_references()
        if (why := missing(reference)) is not None
    ]
    assert dangling == []


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            "| `tests/a.py::test_x`, `::test_y` | `::test_z` |",
            [("tests/a.py", ("test_x",)), ("tests/a.py", ("test_y",)), (None, ("test_z",))],
        ),
        (
            "| `tests/a.py` (`::test_x`), `tests/b/` and `tests/c.py::Group::test_y` |",
            [
                ("tests/a.py", ()),
                ("tests/a.py", ("test_x",)),
                ("tests/b/", ()),
                ("tests/c.py", ("Group", "test_y")),
            ],
        ),
        ("| `{assignee_id \\| null}` and `::` alone `helpdesk/x.py` |", []),
    ],
)
def test_references_are_read_cell_by_cell(tmp_path, row, expected):
    document = tmp_path / "doc.md"
    document.write_text(f"intro\n\n{row}\n")
    assert [(r.path, r.names) for r in references_in(document)] == expected


def test_a_reference_to_a_missing_file_function_or_method_is_caught(tmp_path):
    module = tmp_path / "tests" / "test_here.py"
    module.parent.mkdir()
    module.write_text("def test_there(): ...\n\n\nclass TestGroup:\n    def test_one(self): ...\n")
    verdicts = {
        (path, names): missing(Reference("doc.md", 1, path, names), root=tmp_path)
        for path, names in [
            ("tests/test_here.py", ("test_there",)),
            ("tests/test_here.py", ("test_gone",)),
            ("tests/test_here.py", ("TestGroup", "test_one")),
            ("tests/test_here.py", ("TestGroup", "test_two")),
            ("tests/nowhere.py", ("test_there",)),
            ("tests/", ()),
            (None, ("test_there",)),
        ]
    }
    assert verdicts == {
        ("tests/test_here.py", ("test_there",)): None,
        ("tests/test_here.py", ("test_gone",)): "tests/test_here.py defines no test_gone",
        ("tests/test_here.py", ("TestGroup", "test_one")): None,
        ("tests/test_here.py", ("TestGroup", "test_two")): (
            "TestGroup in tests/test_here.py has no test_two"
        ),
        ("tests/nowhere.py", ("test_there",)): "no such file or folder",
        ("tests/", ()): None,
        (None, ("test_there",)): "no test file is named before it in its cell",
    }
