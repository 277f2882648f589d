"""``import fjordsync`` and the CLI's own import stay light (issue 12: the CLI's fixed cost), and
the lazily imported API is the one type checkers see."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import fjordsync

# What a command must not pay for before it runs (the ledger, the plugins, HTTP, SOAP, DI).
HEAVY = (
    "alembic",
    "argon2",
    "dependency_injector",
    "httpx",
    "jinja2",
    "pluggy",
    "pydantic",
    "requests",
    "sqlalchemy",
    "starlette",
    "uvicorn",
    "zeep",
)


def _imported_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(done.stdout.split())


def _type_checking_imports() -> dict[str, str]:
    tree = ast.parse(Path(fjordsync.__file__).read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    return {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


def test_the_lazy_api_is_what_type_checkers_see_and_all_lists():
    assert _type_checking_imports() == fjordsync._EXPORTS
    assert sorted(fjordsync._EXPORTS) == sorted(fjordsync.__all__)


def test_every_name_of_the_api_is_the_object_of_its_module():
    for name, module in fjordsync._EXPORTS.items():
        assert getattr(fjordsync, name) is getattr(importlib.import_module(module), name)
    assert set(fjordsync.__all__) <= set(dir(fjordsync))


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(
        AttributeError, match=r"^module 'fjordsync' has no attribute 'NoSuchThing'$"
    ):
        fjordsync.NoSuchThing  # noqa: B018


def test_importing_fjordsync_imports_nothing_else_of_it():
    modules = _imported_after("import fjordsync")
    assert sorted(name for name in modules if name.startswith("fjordsync")) == ["fjordsync"]


def test_star_import_gives_the_api():
    modules = _imported_after("from fjordsync import *\nassert Connector and plan and hookimpl")
    assert "fjordsync.connectors" in modules


def test_the_cli_imports_no_heavy_library_before_a_command_runs():
    modules = _imported_after("import fjordsync.cli")
    assert sorted(name for name in modules if name.split(".")[0] in HEAVY) == []
    # Nor the domain (its values import phonenumbers, stdnum and email_validator) with render:
    # of the core, only the command modules and what they all share.
    core = {name for name in modules if name.startswith("fjordsync.")}
    assert {name for name in core if not name.startswith("fjordsync.cli.")} == {
        "fjordsync.cli",
        "fjordsync.errors",
        "fjordsync.logs",
    }
    assert "fjordsync.cli.render" not in core
    assert "fjordsync.cli.progress" not in core


def test_listing_the_connectors_opens_no_ledger_and_reads_no_config():
    modules = _imported_after("from fjordsync.cli.app import container\ncontainer().connectors()")
    assert sorted(name for name in modules if name.split(".")[0] in ("sqlalchemy", "zeep")) == []
    assert "fjordsync.config" not in modules
    assert "fjordsync.ledger" not in modules
