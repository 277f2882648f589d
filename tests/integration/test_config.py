"""Config files: valid ones load; every problem is named by file, key path and what is wrong."""

import textwrap
from datetime import time

import pytest

from fjordsync.config import ConfigFileError, load_config
from fjordsync.plugins import connectors, get_plugin_manager

SECRETS = {"TOKEN_A": "s3cret-token-value", "PW": "hunter2-password"}


@pytest.fixture(scope="module")
def registered():
    return connectors(get_plugin_manager())


def write(tmp_path, body, name="fjordsync.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


GOOD = """
    [ledger]
    url = "sqlite:///state/ledger.db"

    [tenants.acme.connections.hr]
    plugin = "alexis"
    settings = { token = "${TOKEN_A}" }

    [tenants.acme.connections.payroll]
    plugin = "memory"

    [tenants.acme.flows.payroll-employees]
    source = "hr"
    target = "payroll"
    scope = { departments = ["Bygg"], exclude_employees = [" 9999 "] }
    schedule = { days = ["mon", "thu"], time = "06:30" }

    [tenants.acme.flows.absences]
    source = "payroll"
    target = "payroll"
    scope = { absence_types = ["1", "04"] }
    mapping = { absence_types = { "Kurs" = "17" } }
"""


def test_a_valid_config_loads_with_secrets_from_the_environment(tmp_path, registered):
    config = load_config(write(tmp_path, GOOD), connectors=registered, environ=SECRETS)
    assert config.ledger_url == f"sqlite:///{tmp_path / 'state' / 'ledger.db'}"
    settings = config.connection_settings["acme"]["hr"]
    assert settings.token.get_secret_value() == "s3cret-token-value"
    assert "s3cret" not in repr(settings)
    name, tenant = config.tenant(None)
    flow = tenant.flows["payroll-employees"]
    assert name == "acme"
    assert (flow.schedule.days, flow.schedule.time, flow.schedule.timezone) == (
        ["mon", "thu"],
        time(6, 30),
        "Europe/Oslo",
    )
    scope = flow.scope.to_scope()
    assert scope.exclude_employees == frozenset({"9999"})
    assert not scope.includes_employee("9999", "Bygg")
    assert scope.includes_employee("1001", "Bygg")
    assert not scope.includes_employee("1001", "Kontor")
    assert tenant.flows["absences"].scope.to_scope().absence_codes == frozenset({"01", "04"})
    assert tenant.flows["absences"].mapping == {"absence_types": {"Kurs": "17"}}
    assert config.warnings == ()


def test_flows_wired_to_a_connector_without_an_adapter_are_warned_about(tmp_path, registered):
    from fjordsync.connectors import Connector
    from fjordsync.plugins import PluginInfo, RegisteredConnector
    from fjordsync.testing.memory import MemorySettings

    pending = RegisteredConnector(
        Connector("pending", "Registered ahead of its adapter", MemorySettings),
        PluginInfo("pending", "x", "pending-dist", "0.0.1"),
    )
    body = """
        [tenants.acme.connections.a]
        plugin = "pending"
        [tenants.acme.connections.m]
        plugin = "memory"
        [tenants.acme.flows.projects]
        source = "m"
        target = "a"
        [tenants.acme.flows.employees]
        source = "a"
        target = "m"
    """
    config = load_config(write(tmp_path, body), connectors={**registered, "pending": pending})
    assert config.warnings == (
        "connector 'pending' (pending-dist 0.0.1) has no adapter in this version, "
        "so these flows cannot run yet: projects, employees",
    )


def test_secrets_come_from_a_secrets_file_when_not_in_the_environment(tmp_path, registered):
    write(tmp_path, 'TOKEN_A = "from-the-file"\n', name="local-secrets.toml").chmod(0o600)
    path = write(tmp_path, 'secrets_file = "local-secrets.toml"\n' + textwrap.dedent(GOOD))
    config = load_config(path, connectors=registered, environ={})
    assert config.connection_settings["acme"]["hr"].token.get_secret_value() == "from-the-file"
    assert config.secret_values() == ["from-the-file"]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o620, 0o602])
def test_a_secrets_file_others_can_read_or_write_is_refused(tmp_path, registered, mode):
    secrets = write(tmp_path, 'TOKEN_A = "from-the-file"\n', name="local-secrets.toml")
    secrets.chmod(mode)
    path = write(tmp_path, 'secrets_file = "local-secrets.toml"\n' + textwrap.dedent(GOOD))
    with pytest.raises(ConfigFileError) as caught:
        load_config(path, connectors=registered, environ={})
    assert caught.value.problems == [  # and no "not set" problem for TOKEN_A on top
        (
            "secrets_file",
            f"secrets file {str(secrets)!r} can be read or written by others "
            f"(mode {mode:04o}): chmod 600 {secrets}",
        )
    ]
    assert "from-the-file" not in str(caught.value)
    refused_by_env = {"FJORDSYNC_SECRETS_FILE": str(secrets)}
    with pytest.raises(ConfigFileError, match="chmod 600"):
        load_config(write(tmp_path, GOOD), connectors=registered, environ=refused_by_env)


def test_no_config_error_carries_a_secret_value(tmp_path, registered):
    from pydantic import BaseModel, SecretStr, field_validator

    from fjordsync.connectors import Connector
    from fjordsync.plugins import PluginInfo, RegisteredConnector

    class GuidSettings(BaseModel):
        model_config = {"extra": "forbid"}
        application_id: SecretStr
        password: SecretStr

        @field_validator("application_id")
        @classmethod
        def _guid(cls, value):  # a careless plugin: its message quotes the value
            raise ValueError(f"{value.get_secret_value()!r} is not a GUID")

    guid = RegisteredConnector(
        Connector("guid", "Checks its application id", GuidSettings),
        PluginInfo("guid", "x", "guid-dist", "1.0"),
    )
    error = problems_of(
        tmp_path,
        """
        [tenants.acme.connections.a]
        plugin = "guid"
        settings = { application_id = "${APP}", password = "${PW}" }
        [tenants.acme.connections.b]
        plugin = "guid"
        settings = { application_id = 4711, password = ["hunter2-password"] }
    """,
        {**registered, "guid": guid},
        environ={"APP": "not-a-guid-but-secret", "PW": "pw-value"},
    )
    assert error.problems == [
        (
            "tenants.acme.connections.a.settings.application_id",
            "is a secret whose value is not valid for this connector (the value is not shown)",
        ),
        (
            "tenants.acme.connections.b.settings.application_id",
            'is a secret: write it as "${ENV_VAR}" and set that variable or put it in the '
            "secrets file, never in the config file",
        ),
        (
            "tenants.acme.connections.b.settings.password",
            'is a secret: write it as "${ENV_VAR}" and set that variable or put it in the '
            "secrets file, never in the config file",
        ),
    ]
    for value in ("not-a-guid-but-secret", "4711", "hunter2-password"):
        assert value not in str(error)


def test_the_ledger_key_file_is_relative_to_the_config_file(tmp_path):
    body = """
        [ledger]
        url = "sqlite:///state/ledger.db"
        key_file = "keys/ledger.key"
        [tenants.a.connections.m]
        plugin = "memory"
    """
    assert load_config(write(tmp_path, body)).ledger_key_file == str(
        tmp_path / "keys" / "ledger.key"
    )
    assert (
        load_config(
            write(tmp_path, body.replace('key_file = "keys/ledger.key"', ""))
        ).ledger_key_file
        is None
    )


def problems_of(tmp_path, body, registered, environ=SECRETS):
    with pytest.raises(ConfigFileError) as caught:
        load_config(write(tmp_path, body), connectors=registered, environ=environ)
    return caught.value


def test_every_problem_is_reported_with_file_and_key_path(tmp_path, registered):
    error = problems_of(
        tmp_path,
        """
        [tenants.acme.connections.hr]
        plugin = "alexsi"

        [tenants.acme.connections.time]
        plugin = "smartdok"
        settings = { api_token = "${NOT_SET_ANYWHERE}", max_concurrency = 0 }

        [tenants.acme.flows.projects]
        source = "erp"
        target = "time"
        schedule = { days = ["monday"], time = "6.30", timezone = "Europe/Olso" }

        [tenants.acme.flows.payroll]
        source = "hr"
        target = "time"
    """,
        registered,
        environ={},
    )
    file = str(tmp_path / "fjordsync.toml")
    assert error.problems == [
        (
            "tenants.acme.flows.projects.schedule.days.0",
            "Input should be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'",
        ),
        (
            "tenants.acme.flows.projects.schedule.time",
            "Value error, must be a time of day as HH:MM",
        ),
        (
            "tenants.acme.flows.projects.schedule.timezone",
            "Value error, unknown time zone 'Europe/Olso' (use an IANA name)",
        ),
        # A structural mistake no longer hides the rest: one pass names every problem.
        (
            "tenants.acme.connections.hr.plugin",
            "no installed plugin provides connector 'alexsi' (did you mean 'alexis'? "
            "installed: alexis, memory, smartdok, twentyfourseven, twentyfourseven-payroll)",
        ),
        (
            "tenants.acme.connections.time.settings.api_token",
            "environment variable NOT_SET_ANYWHERE is not set, nor is it in the secrets file",
        ),
        (
            "tenants.acme.connections.time.settings.max_concurrency",
            "Input should be greater than or equal to 1",
        ),
        (
            "tenants.acme.flows.projects.source",
            "connection 'erp' is not defined (defined: hr, time)",
        ),
        (
            "tenants.acme.flows.payroll",
            "unknown flow 'payroll' (did you mean 'payroll-employees'?)",
        ),
    ]
    assert error.lines == [12, 12, 12, 3, 7, 7, 10, 14]
    # The message reads in file order, each problem at its line.
    assert str(error).splitlines()[:2] == [
        f"{file}:3: tenants.acme.connections.hr.plugin: no installed plugin provides connector "
        "'alexsi' (did you mean 'alexis'? installed: alexis, memory, smartdok, twentyfourseven, "
        "twentyfourseven-payroll)",
        f"{file}:7: tenants.acme.connections.time.settings.api_token: environment variable "
        "NOT_SET_ANYWHERE is not set, nor is it in the secrets file",
    ]


def test_references_plugins_and_settings_are_checked_after_structure(tmp_path, registered):
    error = problems_of(
        tmp_path,
        """
        [tenants.acme.connections.hr]
        plugin = "alexsi"

        [tenants.acme.connections.time]
        plugin = "smartdok"
        settings = { api_token = "${NOT_SET_ANYWHERE}" }

        [tenants.acme.connections.mem]
        plugin = "memory"
        settings = { licenses = "many", colour = "blue" }

        [tenants.acme.flows.projects]
        source = "erp"
        target = "time"

        [tenants.acme.flows.payroll]
        source = "hr"
        target = "time"
    """,
        registered,
        environ={},
    )
    assert error.problems == [
        (
            "tenants.acme.connections.hr.plugin",
            "no installed plugin provides connector 'alexsi' (did you mean 'alexis'? "
            "installed: alexis, memory, smartdok, twentyfourseven, twentyfourseven-payroll)",
        ),
        (
            "tenants.acme.connections.time.settings.api_token",
            "environment variable NOT_SET_ANYWHERE is not set, nor is it in the secrets file",
        ),
        (
            "tenants.acme.connections.mem.settings.licenses",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        ("tenants.acme.connections.mem.settings.colour", "is not a known setting"),
        (
            "tenants.acme.flows.projects.source",
            "connection 'erp' is not defined (defined: hr, mem, time)",
        ),
        (
            "tenants.acme.flows.payroll",
            "unknown flow 'payroll' (did you mean 'payroll-employees'?)",
        ),
    ]


def test_a_secret_written_out_in_the_file_is_refused_without_echoing_it(tmp_path, registered):
    error = problems_of(
        tmp_path,
        """
        [tenants.acme.connections.hr]
        plugin = "alexis"
        settings = { token = "pasted-real-token-123" }
    """,
        registered,
    )
    assert error.problems == [
        (
            "tenants.acme.connections.hr.settings.token",
            'is a secret: write it as "${ENV_VAR}" and set that variable or put it in the secrets '
            "file, never in the config file",
        )
    ]
    assert "pasted-real-token-123" not in str(error)


def test_a_connector_that_cannot_serve_a_flow_side_is_named(tmp_path, registered, monkeypatch):
    from fjordsync.connectors import Connector
    from fjordsync.plugins import PluginInfo, RegisteredConnector
    from fjordsync.testing.memory import MemorySettings

    class OnlyReadsProjects:
        async def read_projects(self, query):
            return []

    narrow = RegisteredConnector(
        Connector("narrow", "Reads projects", MemorySettings, OnlyReadsProjects),
        PluginInfo("narrow", "x", "narrow-dist", "1.0"),
    )
    error = problems_of(
        tmp_path,
        """
        [tenants.acme.connections.a]
        plugin = "narrow"
        [tenants.acme.flows.projects]
        source = "a"
        target = "a"
    """,
        {**registered, "narrow": narrow},
    )
    assert error.problems == [
        (
            "tenants.acme.flows.projects.target",
            "flow 'projects' writes to connection 'a', which is a Reads projects connection "
            "(narrow): it cannot write projects; none of this tenant's connections can; "
            "connectors that can: smartdok",
        )
    ]


def test_toml_syntax_errors_and_missing_files(tmp_path):
    with pytest.raises(ConfigFileError, match=r"fjordsync.toml: not valid TOML: .*line 1"):
        load_config(write(tmp_path, "[tenants\n"))
    with pytest.raises(ConfigFileError, match=r"nope\.toml: the file does not exist"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigFileError, match="tenants: is required"):
        load_config(write(tmp_path, "[ledger]\n"))


def test_choosing_a_tenant(tmp_path):
    body = """
        [tenants.a.connections.m]
        plugin = "memory"
        [tenants.b.connections.m]
        plugin = "memory"
    """
    config = load_config(write(tmp_path, body))
    assert config.tenant("b")[0] == "b"
    with pytest.raises(Exception, match=r"2 tenants: choose one with --tenant \(a, b\)"):
        config.tenant(None)
