"""`fjordsync connections test` against the real sandboxes: a good token reads, a wrong one
fails with the vendor's reason and no secret, and nothing is ever written (issue 14, item 4)."""

import json

import pytest

from fjordsync.config import secret_settings
from fjordsync.plugins import connectors, get_plugin_manager, sandboxes

from .conftest import fjordsync

# connection name -> connector, in the order the config writes them
CONNECTIONS = {
    "time": "smartdok",
    "erp": "twentyfourseven",
    "payroll": "twentyfourseven-payroll",
    "hr": "alexis",
}
WRONG = "wrong-token-value-123"


@pytest.fixture(scope="module")
def systems():
    manager = get_plugin_manager()
    specs = sandboxes(manager)
    servers = {
        name: spec.server(spec.generate(employees=5, seed=1)).start()
        for name, spec in specs.items()
        if name in ("alexis", "smartdok", "twentyfourseven")
    }
    settings = {}
    for name, server in servers.items():
        settings.update(specs[name].connection(server.url))
    try:
        yield servers, settings, connectors(manager)
    finally:
        for server in servers.values():
            server.stop()


def write_config(tmp_path, settings, registered):
    """The four connections, their secrets as ${CONNECTION_SETTING}; returns (file, env)."""
    lines = ["[ledger]", f'url = "sqlite:///{tmp_path / "ledger.db"}"']
    env = {}
    for connection, plugin in CONNECTIONS.items():
        secrets = secret_settings(registered[plugin].connector.settings)
        lines += [
            f"[tenants.acme.connections.{connection}]",
            f'plugin = "{plugin}"',
            f"[tenants.acme.connections.{connection}.settings]",
        ]
        for key, value in settings[plugin].items():
            if key in secrets:
                env[f"{connection}_{key}".upper()] = value
                value = "${" + f"{connection}_{key}".upper() + "}"
            lines.append(f'{key} = "{value}"')
    file = tmp_path / "fjordsync.toml"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return file, env


def test_good_credentials_read_one_list_each_and_write_nothing(tmp_path, systems):
    servers, settings, registered = systems
    file, env = write_config(tmp_path, settings, registered)
    result = fjordsync("connections", "test", "--config", str(file), env=env)
    assert result.returncode == 0, result.stderr
    smartdok, tfso, alexis = servers["smartdok"], servers["twentyfourseven"], servers["alexis"]
    free = smartdok.state["LicenseInfo"]["AvailableLicenses"]
    projects = len(tfso.state["Project"])
    payroll_employees = len(tfso.state["payroll/employee"])
    departments = len(alexis.state["department"])
    assert result.stdout.splitlines() == [
        f"ok     acme.time (smartdok): {free} free licenses",
        f"ok     acme.erp (twentyfourseven): read {projects} projects",
        f"ok     acme.payroll (twentyfourseven-payroll): read {payroll_employees} employees",
        f"ok     acme.hr (alexis): read {departments} departments",
    ]
    assert all(not server.writes for server in servers.values())


def test_a_wrong_token_fails_with_the_reason_and_no_secret(tmp_path, systems):
    servers, settings, registered = systems
    file, env = write_config(tmp_path, settings, registered)
    # Every token and password wrong (the application id stays: it names the integration).
    wrong = {name: WRONG if name != "ERP_APPLICATION_ID" else env[name] for name in env}
    result = fjordsync("connections", "test", "--config", str(file), env=wrong)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "failed acme.time (smartdok): SmartDok POST /Authorize/ApiToken: the API token was "
        "refused: create a new one in SmartDok (an admin's API token is valid for one year)",
        "failed acme.erp (twentyfourseven): 24SevenOffice Authenticate.Login: the credentials "
        "were refused (Login returned no session): check the username, password and "
        "application id",
        "failed acme.payroll (twentyfourseven-payroll): 24SevenOffice Lønn GET /auth: the "
        "payroll access token was refused: create a new one (Lønn -> Innstillinger -> Diverse "
        "innstillinger -> API, e-post, integrasjoner)",
        "failed acme.hr (alexis): AlexisHR GET /v1/department: the access token was refused "
        "(401): create a new one in AlexisHR (Settings -> Access tokens) and update the "
        "connection's token",
    ]
    assert WRONG not in result.stdout + result.stderr
    assert all(not server.writes for server in servers.values())

    # One wrong token among good ones: only that connection fails, the exit is still 1.
    one_wrong = {**env, "HR_TOKEN": WRONG}
    as_json = fjordsync(
        "connections", "test", "--config", str(file), "--tenant", "acme", "--json", env=one_wrong
    )
    assert as_json.returncode == 1
    document = json.loads(as_json.stdout)
    assert [(c["connection"], c["ok"]) for c in document["connections"]] == [
        ("time", True),
        ("erp", True),
        ("payroll", True),
        ("hr", False),
    ]
    assert document["broken_tenants"] == []
    assert WRONG not in as_json.stdout


def test_an_unknown_tenant_and_a_broken_config_are_told_not_tried(tmp_path, systems):
    _, settings, registered = systems
    file, env = write_config(tmp_path, settings, registered)
    unknown = fjordsync("connections", "test", "--config", str(file), "--tenant", "nope", env=env)
    assert unknown.returncode == 2
    assert unknown.stderr == f"error: {file}: tenants: no tenant 'nope'\n"
    missing = fjordsync("connections", "test", "--config", str(file), env={})
    assert missing.returncode == 2
    assert missing.stderr.startswith(f"error: {file}:")
    assert "environment variable TIME_API_TOKEN is not set" in missing.stderr
