"""Plugins are found through entry points of installed distributions, as users install them."""

import json
import subprocess
import sys
import textwrap
import types

import pytest

from fjordsync.connectors import Connector
from fjordsync.errors import PluginError
from fjordsync.hookspecs import hookimpl
from fjordsync.plugins import connectors, get_plugin_manager
from fjordsync.ports import Query
from fjordsync.testing.memory import MemorySettings

from .conftest import ROOT, fjordsync

BUILT_IN = [
    ("alexis", "fjordsync-alexis", "0.1.0"),
    ("memory", "fjordsync", "0.1.0"),
    ("smartdok", "fjordsync-smartdok", "0.1.0"),
    ("twentyfourseven", "fjordsync-24sevenoffice", "0.1.0"),
    ("twentyfourseven-payroll", "fjordsync-24sevenoffice", "0.1.0"),
]


def listed(result):
    assert result.returncode == 0, result.stderr
    return [
        (c["name"], c["distribution"], c["version"])
        for c in json.loads(result.stdout)["connectors"]
    ]


def test_the_three_vendor_plugins_are_found_through_entry_points():
    assert listed(fjordsync("plugins", "--json", "--all")) == BUILT_IN


def test_the_test_only_memory_connector_is_listed_only_with_all():
    assert listed(fjordsync("plugins", "--json")) == [c for c in BUILT_IN if c[0] != "memory"]
    table = fjordsync("plugins", env={"COLUMNS": "200"}).stdout
    assert "memory" not in table
    assert "memory" in fjordsync("plugins", "--all", env={"COLUMNS": "200"}).stdout


def test_plugins_show_the_flows_each_connector_serves_and_on_which_side():
    result = fjordsync("plugins", "--json")
    flows = {c["name"]: c["flows"] for c in json.loads(result.stdout)["connectors"]}
    assert flows["alexis"] == {
        "employees": ["source"],
        "payroll-employees": ["source"],
        "absences": ["source"],
    }
    assert flows["twentyfourseven"] == {
        "projects": ["source"],
        "employees": ["source"],
        "hours": ["target"],
    }
    assert flows["twentyfourseven-payroll"]["payroll-employees"] == ["target"]
    assert flows["smartdok"]["hours"] == ["source"]
    table = fjordsync("plugins", env={"COLUMNS": "250"}).stdout
    assert "flows it can serve" in table
    assert "projects (source), employees (source), hours (target)" in table
    assert "EmployeeReader" not in table  # port names are for plugin authors, not users


def test_allow_and_deny_lists_from_the_environment():
    only = fjordsync("plugins", "--json", "--all", env={"FJORDSYNC_PLUGINS": "smartdok"})
    assert [name for name, _, _ in listed(only)] == ["memory", "smartdok"]
    without = fjordsync(
        "plugins", "--json", "--all", env={"FJORDSYNC_DISABLE_PLUGINS": "alexis, smartdok"}
    )
    assert [name for name, _, _ in listed(without)] == [
        "memory",
        "twentyfourseven",
        "twentyfourseven-payroll",
    ]


def plugin_module(name, connector_name):
    module = types.ModuleType(name)

    @hookimpl
    def fjordsync_register_connectors(register):
        register(Connector(connector_name, f"from {name}", MemorySettings))

    module.fjordsync_register_connectors = fjordsync_register_connectors
    return module


def test_a_duplicate_connector_name_is_an_error():
    manager = get_plugin_manager(entry_points=False)
    manager.register(plugin_module("first", "erp"), name="first")
    manager.register(plugin_module("second", "erp"), name="second")
    with pytest.raises(PluginError) as caught:
        connectors(manager)
    assert str(caught.value) == (
        "connector 'erp' is registered by both plugin 'first' (unknown) "
        "and plugin 'second' (unknown)"
    )


def test_a_plugin_implementing_an_unknown_hook_is_refused(tmp_path, monkeypatch):
    (tmp_path / "typo_plugin.py").write_text(
        textwrap.dedent("""
        from fjordsync.hookspecs import hookimpl

        @hookimpl
        def fjordsync_register_conectors(register):
            pass
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError) as caught:
        get_plugin_manager(builtins=["typo_plugin"], entry_points=False)
    assert str(caught.value) == (
        "plugin 'typo_plugin' implements an unknown hook 'fjordsync_register_conectors': "
        "is the hook name misspelt?"
    )


def fake_distribution(site, name, entry_point):
    """A dist-info as pip leaves it, declaring one fjordsync entry point."""
    info = site / f"{name.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[fjordsync]\n{entry_point}\n")


def test_a_plugin_that_fails_to_import_stops_with_a_clear_error(tmp_path):
    fake_distribution(tmp_path, "broken-plugin", "broken = broken_plugin_module.plugin")
    result = fjordsync("plugins", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 2
    assert (
        "plugin 'broken' (broken_plugin_module.plugin) failed to load: "
        "ModuleNotFoundError: No module named 'broken_plugin_module'"
    ) in " ".join(result.stderr.split())


def test_two_distributions_with_the_same_plugin_name_are_an_error(tmp_path):
    fake_distribution(tmp_path, "impostor", "smartdok = fjordsync_smartdok.plugin")
    result = fjordsync("plugins", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 2
    assert "two plugins are named 'smartdok'" in result.stderr


@pytest.fixture(scope="module")
def csv_plugin_site(tmp_path_factory):
    """The example plugin installed with pip, as a user would, into its own site directory."""
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(ROOT / "examples" / "plugin-csv"),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return site


def test_the_csv_example_plugin_is_found_once_installed(csv_plugin_site):
    result = fjordsync("plugins", "--json", "--all", env={"PYTHONPATH": str(csv_plugin_site)})
    rows = json.loads(result.stdout)["connectors"]
    csv = next(row for row in rows if row["name"] == "csv")
    assert csv == {
        "name": "csv",
        "title": "Employees from a CSV file (example plugin)",
        "plugin": "csv",
        "distribution": "fjordsync-csv-example",
        "version": "0.3.1",
        "capabilities": ["EmployeeReader"],
        "flows": {"employees": ["source"]},
        "testing": False,
    }
    assert listed(result) == sorted([*BUILT_IN, ("csv", "fjordsync-csv-example", "0.3.1")])


async def test_the_csv_connector_reads_employees_from_config(
    csv_plugin_site, tmp_path, monkeypatch
):
    monkeypatch.syspath_prepend(str(csv_plugin_site))
    from fjordsync.config import load_config

    (tmp_path / "people.csv").write_text(
        "number,first_name,last_name,email,mobile,department\n"
        "1001,Kari,Nordmann,kari@firma.no,+47 912 34 567,Bygg\n"
        "1002,Ola,Hansen,ola@,,Bygg\n"
        "1003,Per,Berg,,,Kontor\n",
        encoding="utf-8",
    )
    (tmp_path / "fjordsync.toml").write_text(
        '[tenants.acme.connections.people]\nplugin = "csv"\n'
        'settings = { path = "' + str(tmp_path / "people.csv") + '" }\n'
    )
    registered = connectors(get_plugin_manager())
    config = load_config(tmp_path / "fjordsync.toml", connectors=registered)
    adapter = registered["csv"].connector.build(config.connection_settings["acme"]["people"])
    from fjordsync.ports import Scope

    read = await adapter.read_employees(Query(scope=Scope(departments=frozenset({"Bygg"}))))
    assert [(e.key, e.full_name, str(e.mobile)) for e in read[:1]] == [
        ("1001", "Kari Nordmann", "+47 91234567")
    ]
    assert (read[1].key, read[1].message) == ("1002", "email: is not a valid e-mail address")
    assert len(read) == 2
