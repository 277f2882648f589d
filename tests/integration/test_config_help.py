"""A broken config is fixed in one pass: `fjordsync config check` names every problem at once,
each at its line in the file, with a "did you mean" for names that are nearly right and wiring
mistakes in plain words (issue 14, item 4)."""

import json
import textwrap

import pytest

from fjordsync.config import ConfigFileError, close_matches, key_lines, line_of, load_config
from fjordsync.plugins import connectors, get_plugin_manager

from .conftest import fjordsync

# Five kinds of mistake at once: an unknown connector (alexishr), an unknown key (only_atested),
# a secret whose variable is not set (TFSO_PW), a flow wired backwards (hours from the ERP to
# SmartDok), an unknown flow (absense) naming an unknown connection (payrol).
SEVERAL_MISTAKES = """\
[ledger]
url = "sqlite:///ledger.db"

[tenants.demo.connections.hr]
plugin = "alexishr"
settings = { token = "${HR_TOKEN}" }

[tenants.demo.connections.time]
plugin = "smartdok"
settings = { api_token = "${SD_TOKEN}", only_atested = false }

[tenants.demo.connections.erp]
plugin = "twentyfourseven"

[tenants.demo.connections.erp.settings]
application_id = "${TFSO_APP}"
username = "api@demo.no"
password = "${TFSO_PW}"

[tenants.demo.connections.payroll]
plugin = "twentyfourseven-payroll"
settings = { access_token = "${PAYROLL_TOKEN}" }

[tenants.demo.flows.hours]
source = "erp"
target = "time"

[tenants.demo.flows.absense]
source = "hr"
target = "payrol"
"""
ENV = {"SD_TOKEN": "sd-token-value", "TFSO_APP": "app-id-value", "PAYROLL_TOKEN": "pay-value"}
INSTALLED = "alexis, memory, smartdok, twentyfourseven, twentyfourseven-payroll"
EXPECTED = [
    (
        5,
        "tenants.demo.connections.hr.plugin",
        f"no installed plugin provides connector 'alexishr' (did you mean 'alexis'? "
        f"installed: {INSTALLED})",
    ),
    (
        10,
        "tenants.demo.connections.time.settings.only_atested",
        "is not a known setting (did you mean 'only_attested'?)",
    ),
    (
        18,
        "tenants.demo.connections.erp.settings.password",
        "environment variable TFSO_PW is not set, nor is it in the secrets file",
    ),
    (
        25,
        "tenants.demo.flows.hours.source",
        "flow 'hours' takes its source from connection 'erp', which is a 24SevenOffice ERP "
        "connection (twentyfourseven): it cannot mark hours as exported; connections that can: "
        "time (smartdok)",
    ),
    (
        26,
        "tenants.demo.flows.hours.target",
        "flow 'hours' writes to connection 'time', which is a SmartDok connection (smartdok): "
        "it cannot write hours; connections that can: erp (twentyfourseven)",
    ),
    (28, "tenants.demo.flows.absense", "unknown flow 'absense' (did you mean 'absences'?)"),
    (
        30,
        "tenants.demo.flows.absense.target",
        "connection 'payrol' is not defined (did you mean 'payroll'? "
        "defined: erp, hr, payroll, time)",
    ),
]


@pytest.fixture(scope="module")
def registered():
    return connectors(get_plugin_manager())


def test_config_check_names_every_mistake_at_its_line_in_one_pass(tmp_path):
    file = tmp_path / "fjordsync.toml"
    file.write_text(SEVERAL_MISTAKES, encoding="utf-8")
    result = fjordsync("config", "check", "--config", str(file), env=ENV)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{file}: invalid",
        *(f"{file}:{line}: {path}: {problem}" for line, path, problem in EXPECTED),
    ]
    for value in ENV.values():
        assert value not in result.stderr

    as_json = json.loads(fjordsync("config", "check", str(file), "--json", env=ENV).stdout)
    assert as_json == {
        "file": str(file),
        "valid": False,
        "problems": [
            {"path": path, "problem": problem, "line": line} for line, path, problem in EXPECTED
        ],
    }


def test_a_structural_mistake_in_a_tenant_does_not_hide_its_other_problems(tmp_path, registered):
    body = textwrap.dedent("""\
        [tenants.acme.connections.time]
        plugin = "smartdok"
        settings = { api_token = "${NOT_SET}" }
        [tenants.acme.connections.hr]
        plugin = "alexis"
        setings = { token = "${HR}" }
        [tenants.acme.flows.projects]
        source = "erp"
        target = "time"
        schedule = { days = ["monday"], time = "06:30" }
        [tenants.acme.flows.hours]
        source = "hr"
        target = "time"
    """)
    file = tmp_path / "fjordsync.toml"
    file.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigFileError) as raised:
        load_config(file, connectors=registered, environ={})
    error = raised.value
    assert list(zip(error.lines, error.problems, strict=True)) == [
        (
            6,
            (
                "tenants.acme.connections.hr.setings",
                "is not a known setting (did you mean 'settings'?)",
            ),
        ),
        (
            10,
            (
                "tenants.acme.flows.projects.schedule.days.0",
                "Input should be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'",
            ),
        ),
        (
            3,
            (
                "tenants.acme.connections.time.settings.api_token",
                "environment variable NOT_SET is not set, nor is it in the secrets file",
            ),
        ),
        # The broken flow's wiring is still checked; the broken connection is not "undefined".
        (
            8,
            (
                "tenants.acme.flows.projects.source",
                "connection 'erp' is not defined (defined: hr, time)",
            ),
        ),
        (
            13,
            (
                "tenants.acme.flows.hours.target",
                "flow 'hours' writes to connection 'time', which is a SmartDok connection "
                "(smartdok): it cannot write hours; none of this tenant's connections can; "
                "connectors that can: twentyfourseven",
            ),
        ),
    ]


def test_a_mistake_in_the_file_sections_does_not_hide_the_tenants_problems(tmp_path, registered):
    body = textwrap.dedent("""\
        [ledger]
        ulr = "sqlite:///ledger.db"
        [web]
        prot = 8080
        [tenants.acme.connections.hr]
        plugin = "alexis"
    """)
    file = tmp_path / "fjordsync.toml"
    file.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigFileError) as raised:
        load_config(file, connectors=registered, environ={})
    assert list(zip(raised.value.lines, raised.value.problems, strict=True)) == [
        (2, ("ledger.ulr", "is not a known setting (did you mean 'url'?)")),
        (4, ("web.prot", "is not a known setting (did you mean 'port'?)")),
        (5, ("tenants.acme.connections.hr.settings.token", "is required")),
    ]
    assert str(raised.value).splitlines()[0] == (
        f"{file}:2: ledger.ulr: is not a known setting (did you mean 'url'?)"
    )


def test_problems_without_a_line_keep_the_plain_form(tmp_path):
    with pytest.raises(ConfigFileError) as raised:
        load_config(tmp_path / "missing.toml")
    assert raised.value.lines == [None]
    assert str(raised.value) == f"{tmp_path / 'missing.toml'}: the file does not exist"
    file = tmp_path / "empty.toml"
    file.write_text("[ledger]\n", encoding="utf-8")
    with pytest.raises(ConfigFileError) as raised:
        load_config(file)
    assert str(raised.value) == f"{file}: tenants: is required"


TOML_FORMS = '''\
# a comment [not.a.table]
title = "x" # trailing [comment]
[a]
b = 1
"quoted.key" = 2
dotted.inner = { x = 1, y = { z = "}" } }
text = """
[fake.table]
b = 3
"""
literal = \'\'\'
[also.fake]\'\'\'
list = [
  1,   # one
  { k = "v" },
]
[a."c d".e]
f = "say \\"}\\" [x]"
[[arr]]
g = 1
[[arr]]
g = 2
h = [[1, 2], [3]]
'''


def test_key_lines_follow_every_toml_form():
    import tomllib

    tomllib.loads(TOML_FORMS)  # the text is TOML
    lines = key_lines(TOML_FORMS)
    assert lines == {
        "title": 2,
        "a": 3,
        "a.b": 4,
        "a.quoted.key": 5,
        "a.dotted": 6,
        "a.dotted.inner": 6,
        "a.dotted.inner.x": 6,
        "a.dotted.inner.y": 6,
        "a.dotted.inner.y.z": 6,
        "a.text": 7,
        "a.literal": 11,
        "a.list": 13,
        "a.list.0": 14,
        "a.list.1": 15,
        "a.list.1.k": 15,
        "a.c d": 17,
        "a.c d.e": 17,
        "a.c d.e.f": 18,
        "arr": 19,
        "arr.0": 19,
        "arr.0.g": 20,
        "arr.1": 21,
        "arr.1.g": 22,
        "arr.1.h": 23,
        "arr.1.h.0": 23,
        "arr.1.h.0.0": 23,
        "arr.1.h.0.1": 23,
        "arr.1.h.1": 23,
        "arr.1.h.1.0": 23,
    }
    # A key not written (a missing setting) is at the nearest table above it that is.
    assert line_of(lines, "a.c d.e.missing") == 17
    assert line_of(lines, "arr[1].g") == 22
    assert line_of(lines, "nowhere.at.all") is None
    assert line_of(lines, "") is None


def test_close_matches_suggest_near_names_and_names_a_word_begins():
    flows = ["projects", "employees", "hours", "payroll-employees", "absences"]
    assert close_matches("absense", flows) == ["absences"]
    assert close_matches("payroll", flows) == ["payroll-employees"]
    assert close_matches("salaries", flows) == []
