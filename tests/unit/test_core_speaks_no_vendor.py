"""Issue 11: the core never writes vendor text. No vendor name, menu path or vendor limit is in
the code or string constants of the domain, the flows and the ports: connectors describe their
own systems (``fjordsync.ports.Wording``, registered with the connector) and the flows render
their messages with it. Docstrings may name vendors as examples; comments are not code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fjordsync

CORE = Path(fjordsync.__file__).parent
SCANNED = sorted(
    [
        *(CORE / "domain").rglob("*.py"),
        *(CORE / "flows").rglob("*.py"),
        CORE / "ports.py",
    ]
)
VENDOR_WORDS = (
    "smartdok",
    "24sevenoffice",
    "24seven",
    "twentyfourseven",
    "alexishr",
    "alexis",
    "lønn",
    "firmaopplysninger",
    "brukeroversikt",
    "aktiviteter",
    "ansattnummer",
)
MENU_ARROWS = (" -> ", "→")
VENDOR_LIMITS = (70, 50, 255)  # project name, user name (SmartDok); hours per entry (24SevenOffice)
LIMIT_WORDS = ("takes 70", "70 characters", "takes 50", "50 characters", "(255)")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                found.add(id(body[0].value))
    return found


def _spoken(path: Path) -> list[tuple[int, str, object]]:
    """(line, what, value) of every string constant that is not a docstring, every number, and
    every name the module gives or uses."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    spoken: list[tuple[int, str, object]] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and id(node) not in docstrings:
            if isinstance(node.value, str):
                spoken.append((line, "string", node.value))
            elif isinstance(node.value, int) and not isinstance(node.value, bool):
                spoken.append((line, "number", node.value))
        elif isinstance(node, ast.Name):
            spoken.append((line, "name", node.id))
        elif isinstance(node, ast.Attribute):
            spoken.append((line, "name", node.attr))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            spoken.append((line, "name", node.name))
        elif isinstance(node, ast.arg):
            spoken.append((line, "name", node.arg))
        elif isinstance(node, ast.alias):
            spoken.append((line, "name", node.asname or node.name))
        elif isinstance(node, ast.keyword) and node.arg:
            spoken.append((line, "name", node.arg))
    return spoken


def _vendor_text(what: str, value: object) -> str | None:
    if what == "number":
        return f"the vendor limit {value}" if value in VENDOR_LIMITS else None
    text = str(value)
    folded = text.casefold()
    for word in VENDOR_WORDS:
        if word in folded:
            return f"the vendor word {word!r}"
    if what == "string":
        for arrow in MENU_ARROWS:
            if arrow in text:
                return f"the menu arrow {arrow!r}"
        for limit in LIMIT_WORDS:
            if limit in text:
                return f"the vendor limit {limit!r}"
    return None


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: str(p.relative_to(CORE)))
def test_the_core_speaks_no_vendor(path):
    found = [
        f"{path.name}:{line}: {what} {value!r} holds {why}"
        for line, what, value in _spoken(path)
        if (why := _vendor_text(what, value))
    ]
    assert found == []


def test_the_scan_sees_what_it_must_refuse(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""A docstring may name SmartDok."""\n'
        "NAME_LIMIT = 70\n"
        'WHERE = "Firmaopplysninger -> Aktiviteter"\n'
        "def alexis_name(x):\n"
        '    return f"{x} in 24SevenOffice Lønn"\n',
        encoding="utf-8",
    )
    reasons = {why for _, what, value in _spoken(sample) if (why := _vendor_text(what, value))}
    assert reasons == {
        "the vendor limit 70",
        "the vendor word 'firmaopplysninger'",
        "the vendor word 'alexis'",
        "the vendor word '24sevenoffice'",
    }
