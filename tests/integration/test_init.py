"""`fjordsync init` writes a commented config for the connectors chosen, which passes
`fjordsync config check` once the variables it names are set (issue 14, item 4)."""

import json
import tomllib

from fjordsync.plugins import connectors, get_plugin_manager

from .conftest import fjordsync

ALL_FOUR = "smartdok,twentyfourseven,twentyfourseven-payroll,alexis"
VARIABLES = [
    "ACME_TIME_API_TOKEN",
    "ACME_ERP_APPLICATION_ID",
    "ACME_ERP_USERNAME",
    "ACME_ERP_PASSWORD",
    "ACME_PAYROLL_ACCESS_TOKEN",
    "ACME_HR_TOKEN",
]


def test_init_writes_a_config_that_passes_check_once_its_variables_are_set(tmp_path):
    out = tmp_path / "fjordsync.toml"
    result = fjordsync("init", "--connectors", ALL_FOUR, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"wrote {out}",
        "set these environment variables (or put them in a secrets file named by secrets_file):",
        *(f"  {name}" for name in VARIABLES),
        f"then check it: fjordsync config check --config {out}",
    ]
    written = tomllib.loads(out.read_text(encoding="utf-8"))
    tenant = written["tenants"]["acme"]
    assert {name: c["plugin"] for name, c in tenant["connections"].items()} == {
        "time": "smartdok",
        "erp": "twentyfourseven",
        "payroll": "twentyfourseven-payroll",
        "hr": "alexis",
    }
    assert {name: (f["source"], f["target"]) for name, f in tenant["flows"].items()} == {
        "projects": ("erp", "time"),
        "employees": ("erp", "time"),
        "hours": ("time", "erp"),
        "payroll-employees": ("hr", "payroll"),
        "absences": ("hr", "payroll"),
    }
    # Required settings and secrets are references; optional ones are commented out.
    assert tenant["connections"]["erp"]["settings"] == {
        "application_id": "${ACME_ERP_APPLICATION_ID}",
        "username": "${ACME_ERP_USERNAME}",
        "password": "${ACME_ERP_PASSWORD}",
    }
    assert written["ledger"] == {"url": "sqlite:///fjordsync.db"}
    assert all("schedule" not in flow for flow in tenant["flows"].values())

    unset = fjordsync("config", "check", "--config", str(out), "--json")
    assert unset.returncode == 2
    assert sorted(p["problem"].split()[2] for p in json.loads(unset.stdout)["problems"]) == sorted(
        VARIABLES
    )
    env = {name: f"value-of-{name.lower()}" for name in VARIABLES}
    checked = fjordsync("config", "check", "--config", str(out), "--json", env=env)
    assert checked.returncode == 0, checked.stderr
    summary = json.loads(checked.stdout)
    assert summary["valid"] is True and summary["warnings"] == []
    assert list(summary["tenants"]["acme"]["flows"]) == list(tenant["flows"])


def test_every_setting_is_written_with_its_description(tmp_path):
    out = tmp_path / "fjordsync.toml"
    assert fjordsync("init", "--connectors", ALL_FOUR, "--out", str(out)).returncode == 0
    text = out.read_text(encoding="utf-8")
    registered = connectors(get_plugin_manager())
    for name in ALL_FOUR.split(","):
        for setting, field in registered[name].connector.settings.model_fields.items():
            line = next(
                line
                for line in text.splitlines()
                if line.startswith((f"{setting} = ", f"# {setting} = "))
            )
            if field.description:
                before = text.splitlines()[text.splitlines().index(line) - 1]
                assert before == f"# {field.description}"
    lines = text.splitlines()
    assert lines[lines.index("# read only hours attested by an admin") + 1] == (
        "# only_attested = true"
    )
    assert '# base_url = "https://api.alexishr.com/v1"' in lines
    assert '# identity_id = ""  # unset by default' in lines
    assert '# schedule = { days = ["mon", "tue", "wed", "thu", "fri"], time = "06:30" }' in lines


def test_init_for_some_connectors_wires_only_the_flows_they_serve(tmp_path):
    out = tmp_path / "hr.toml"
    result = fjordsync(
        "init",
        "--connectors",
        "alexis,twentyfourseven-payroll",
        "--tenant",
        "fjordbygg",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    tenant = tomllib.loads(out.read_text(encoding="utf-8"))["tenants"]["fjordbygg"]
    assert list(tenant["flows"]) == ["payroll-employees", "absences"]
    assert tenant["connections"]["hr"]["settings"] == {"token": "${FJORDBYGG_HR_TOKEN}"}


def test_init_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "fjordsync.toml"
    out.write_text("# mine\n", encoding="utf-8")
    result = fjordsync("init", "--connectors", "smartdok", "--out", str(out))
    assert result.returncode == 2
    assert result.stderr == f"error: {out} exists: give --force to overwrite it\n"
    assert out.read_text(encoding="utf-8") == "# mine\n"
    forced = fjordsync("init", "--connectors", "smartdok", "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert out.read_text(encoding="utf-8").startswith("# fjordsync config for tenant 'acme'")


def test_an_unknown_connector_gets_a_did_you_mean(tmp_path):
    out = tmp_path / "fjordsync.toml"
    result = fjordsync("init", "--connectors", "smartdok,alexishr", "--out", str(out))
    assert result.returncode == 2
    assert result.stderr == (
        "error: --connectors: no installed plugin provides connector 'alexishr' (did you mean "
        "'alexis'? installed: alexis, memory, smartdok, twentyfourseven, "
        "twentyfourseven-payroll)\n"
    )
    assert not out.exists()
