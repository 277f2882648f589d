"""Loading the plugins imports no adapter (issue 12: the CLI's fixed cost): connectors name their
adapter as "module:Class" with declared capabilities, resolved when a connection is built."""

import subprocess
import sys
import textwrap

import pytest
from pydantic import BaseModel

from fjordsync.connectors import Connector, capabilities_of
from fjordsync.errors import PluginError
from fjordsync.plugins import connectors, get_plugin_manager
from fjordsync.testing.memory import InMemorySystem

HEAVY = ("zeep", "requests", "httpx", "lxml", "tenacity", "alembic")


class Settings(BaseModel):
    pass


def _modules_after(code: str) -> list[str]:
    """Top-level modules among HEAVY and the plugins' adapters imported after ``code``."""
    script = code + textwrap.dedent(
        f"""
        import sys
        print(" ".join(sorted(
            name for name in sys.modules
            if name.split(".")[0] in {HEAVY!r} and "." not in name
            or name.endswith(".adapter") or name.endswith(".client")
        )))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.split()


def test_listing_the_connectors_imports_no_adapter_nor_its_libraries():
    code = (
        "from fjordsync.plugins import connectors, get_plugin_manager\n"
        "rows = [r.as_dict() for r in connectors(get_plugin_manager()).values()]"
    )
    assert _modules_after(code) == []


def test_building_a_connection_imports_only_its_adapter():
    code = (
        "from fjordsync.plugins import connectors, get_plugin_manager\n"
        "connector = connectors(get_plugin_manager())['alexis'].connector\n"
        "connector.adapter_class()"
    )
    modules = _modules_after(code)
    assert "fjordsync_alexis.adapter" in modules
    assert "zeep" not in modules
    assert not [name for name in modules if name.startswith("fjordsync_twentyfourseven")]


def test_every_installed_connector_implements_what_it_declares():
    registered = connectors(get_plugin_manager())
    assert {"alexis", "smartdok", "twentyfourseven", "twentyfourseven-payroll"} <= set(registered)
    for item in registered.values():
        connector = item.connector
        adapter = connector.adapter_class()
        assert adapter is not None
        assert capabilities_of(adapter) == connector.capabilities


def test_a_reference_resolves_once_and_builds():
    connector = Connector(
        "lazy",
        "lazy",
        Settings,
        adapter="fjordsync.testing.memory:InMemorySystem",
        capabilities=("ProjectReader", "EmployeeReader"),
    )
    # Declared in any order, kept in the ports' order as capabilities_of gives them.
    assert connector.capabilities == ("EmployeeReader", "ProjectReader")
    with pytest.raises(
        PluginError, match="declares the capabilities EmployeeReader, ProjectReader"
    ):
        connector.adapter_class()


def test_a_reference_without_declared_capabilities_reads_them_off_the_class():
    connector = Connector(
        "lazy", "lazy", Settings, adapter="fjordsync.testing.memory:InMemorySystem"
    )
    assert connector.capabilities == capabilities_of(InMemorySystem)
    assert connector.adapter_class() is InMemorySystem
    assert connector.adapter_class() is InMemorySystem
    assert Connector("lazy", "lazy", Settings, adapter=InMemorySystem) == Connector(
        "lazy", "lazy", Settings, adapter=InMemorySystem
    )


def test_declared_capabilities_must_match_a_class_given_directly():
    with pytest.raises(ValueError, match="declares the capabilities ProjectReader"):
        Connector("lazy", "lazy", Settings, adapter=InMemorySystem, capabilities=("ProjectReader",))
    assert Connector(
        "lazy",
        "lazy",
        Settings,
        adapter=InMemorySystem,
        capabilities=capabilities_of(InMemorySystem),
    ).capabilities == capabilities_of(InMemorySystem)


def test_an_unknown_port_is_refused():
    with pytest.raises(ValueError, match="unknown port ProjectReeder"):
        Connector("lazy", "lazy", Settings, adapter="x:Y", capabilities=("ProjectReeder",))


def test_an_adapter_that_fails_to_import_is_a_plugin_error():
    connector = Connector(
        "lazy", "lazy", Settings, adapter="no_such_module:Adapter", capabilities=("ProjectReader",)
    )
    with pytest.raises(PluginError, match="'no_such_module:Adapter' failed to load"):
        connector.build(Settings())
