"""No personal value and no secret leaks, at DEBUG, under faults and with invalid records: every
flow through the installed command against the three sandboxes; stdout, stderr, the log file,
the run history and the ledger file's bytes are scanned for each personal number, account, IBAN,
salary, address and secret of the data. And the ledger file alone does not let anyone test
salary guesses against its fingerprints."""

from __future__ import annotations

import copy
import json
import re
import shutil
import sqlite3

import httpx
import pytest

from fjordsync.cli import write_demo_config
from fjordsync.domain.diff import fingerprint
from fjordsync.ledger import Ledger
from fjordsync.plugins import get_plugin_manager, sandboxes
from fjordsync.testing.sandbox import FaultSpec

from .conftest import fjordsync

FLOWS = [
    ("projects", []),
    ("employees", []),
    ("hours", ["--from", "2026-09-01", "--to", "2026-12-31"]),
    ("payroll-employees", []),
    ("absences", ["--from", "2026-01-01", "--to", "2026-12-31"]),
]
NEW_SALARY = "41234.56"  # what the brute force looks for (a MONTHLY compensation of this)


def _dirty(states):
    """Invalid records among the generated ones: a personal number with wrong check digits, a
    daily pay payroll cannot take, an IBAN with a wrong checksum."""
    employees = states["alexis"]["employee"]
    employees[0]["ssn"] = "15108695077"
    employees[1]["bankAccount"] = {
        "number": "",
        "iban": "NO9386011117948",
        "bic": "DNBANOKK",
        "clearing": "",
        "country": "NO",
    }
    compensation = states["alexis"]["compensation"][0]
    compensation["payoutPeriod"] = "DAILY"


PERSONAL_TEXT = {"ssn", "personnr", "account", "iban", "street", "postaddress"}
PERSONAL_TEXT_IN = {("bankAccount", "number"), ("internationalID", "ID")}
AMOUNTS = {"amount", "baseAmount", "salary"}


def _personal_values(states):
    """Every personal value in the sandboxes' data: texts, and amounts (salaries)."""
    values: dict[str, set[str]] = {"text": set(), "number": set()}

    def walk(node, parent=""):
        if isinstance(node, list):
            for item in node:
                walk(item, parent)
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            if isinstance(value, dict | list):
                walk(value, key)
                continue
            text = str(value).strip()
            personal = key in PERSONAL_TEXT or (parent, key) in PERSONAL_TEXT_IN
            if personal and len(text) >= 5:
                values["text"].add(text)
            if key in AMOUNTS and not isinstance(value, bool) and float(text or 0) >= 1000:
                values["number"].update({text, f"{float(text):.2f}"})

    walk(states)
    return values


def _hits(haystack: str, values) -> list[str]:
    found = [v for v in values["text"] if v in haystack]
    found += [
        v for v in values["number"] if re.search(rf"(?<![\d.]){re.escape(v)}(?![\d])", haystack)
    ]
    return sorted(found)


@pytest.fixture
def company(tmp_path):
    specs = sandboxes(get_plugin_manager())
    states = {name: specs[name].generate(employees=12, seed=5) for name in specs}
    _dirty(states)
    faults = FaultSpec.parse("5xx=0.1,seed=3")
    servers = {name: specs[name].server(copy.deepcopy(states[name]), faults) for name in specs}
    for server in servers.values():
        server.start()
    try:
        urls = {name: server.url for name, server in servers.items()}
        connections = {name: specs[name].connection(url) for name, url in urls.items()}
        config = tmp_path / "demo.toml"
        write_demo_config(str(config), urls, connections)
        secrets = [
            str(value)
            for by_connector in connections.values()
            for settings in by_connector.values()
            for name, value in settings.items()
            if name in {"token", "api_token", "access_token", "password", "application_id"}
        ]
        yield servers, states, config, secrets
    finally:
        for server in servers.values():
            server.stop()


def test_no_personal_value_or_secret_leaks_anywhere(company, tmp_path):
    servers, states, config, secrets = company
    log_file = tmp_path / "debug.log"
    erp = servers["twentyfourseven"]
    outputs = []
    for flow, extra in FLOWS:
        # a dead SOAP session and expired payroll tokens before each flow
        httpx.delete(f"{erp.url}/_sandbox/sessions")
        httpx.delete(f"{erp.url}/_sandbox/payroll-tokens")
        result = fjordsync(
            "run", flow, "--config", str(config), "--json", *extra,
            "--log-level", "DEBUG", "--log-file", str(log_file),
        )  # fmt: skip
        assert "Traceback" not in result.stderr, (flow, result.stderr)
        assert result.returncode in (0, 1, 2), result
        outputs += [result.stdout, result.stderr]
    documents = [json.loads(text) for text in outputs[::2]]
    assert any(item["outcome"] == "invalid" for doc in documents for item in doc.get("items", []))
    ledger_file = tmp_path / "demo.toml.ledger.db"
    ledger = Ledger(f"sqlite:///{ledger_file}")
    history = json.dumps([run.as_dict() for run in ledger.runs(limit=100)] + [
        ledger.run(run.id).as_dict() for run in ledger.runs(limit=100)
    ])  # fmt: skip
    ledger.close()
    shown = fjordsync("runs", "show", "1", "--config", str(config), "--json")
    log_text = log_file.read_text()
    assert "HTTP Request: GET" in log_text  # DEBUG logging was on
    personal = _personal_values(states)
    assert personal["text"] and personal["number"]
    everything = {
        "stdout and stderr": "\n".join(outputs),
        "log file": log_text,
        "run history": history + shown.stdout,
        "ledger file": b"".join(
            path.read_bytes() for path in tmp_path.glob("demo.toml.ledger.db*")
        ).decode("latin-1"),
    }
    for where, text in everything.items():
        assert _hits(text, personal) == [], where
        assert [s for s in secrets if s in text] == [], where


def test_the_ledger_file_alone_does_not_give_salaries_away(company, tmp_path):
    servers, _, config, _ = company
    for server in servers.values():
        server.set_faults(FaultSpec())
    assert fjordsync("run", "payroll-employees", "--config", str(config)).returncode in (0, 1)
    # One employee's salary changes, nothing else: that update's fingerprint covers the salary
    # alone, the low-entropy case.
    hr = servers["alexis"]
    by_employee: dict[str, list[dict]] = {}
    for compensation in hr.state["compensation"]:
        by_employee.setdefault(compensation["employeeId"], []).append(compensation)
    monthly = [
        found
        for employee in hr.state["employee"][2:]  # the first two are invalid
        if (found := by_employee.get(employee["id"]))
        and all(c["payoutPeriod"] == "MONTHLY" for c in found)
    ]
    for compensation in monthly[0]:
        compensation.update(amount=float(NEW_SALARY), baseAmount=float(NEW_SALARY))
    result = fjordsync("run", "payroll-employees", "--config", str(config), "--json")
    updates = [i for i in json.loads(result.stdout)["items"] if i["action"] == "update"]
    assert [[c["field"] for c in i["changes"]] for i in updates] == [["salary"]], result.stdout

    stolen = tmp_path / "stolen" / "ledger.db"  # the file alone, without its key file
    stolen.parent.mkdir()
    shutil.copy(tmp_path / "demo.toml.ledger.db", stolen)
    with sqlite3.connect(stolen) as db:
        prints = {row[0] for row in db.execute("SELECT fingerprint FROM links") if row[0]}
        candidate_keys = [b""] + [
            value.encode() for (value,) in db.execute("SELECT value FROM meta")
        ] + [bytes.fromhex(v) for (v,) in db.execute("SELECT value FROM meta")
             if re.fullmatch(r"(?:[0-9a-f]{2})+", v or "")]  # fmt: skip
    assert prints
    guesses = [f"{cents / 100:.2f}" for cents in range(4_000_000, 4_400_000)]  # 400,000

    def found(keys):
        return [
            guess
            for key in keys
            for guess in guesses
            if fingerprint({"salary": guess}, key) in prints
        ]

    assert found(candidate_keys) == []
    real_key = bytes.fromhex((tmp_path / "demo.toml.ledger.db.key").read_text().strip())
    assert found([real_key]) == [NEW_SALARY]  # the search works when the key is known


def test_a_key_kept_in_the_meta_table_is_moved_to_the_key_file(tmp_path, monkeypatch):
    monkeypatch.delenv("FJORDSYNC_LEDGER_KEY", raising=False)
    monkeypatch.delenv("FJORDSYNC_LEDGER_KEY_FILE", raising=False)
    path = tmp_path / "ledger.db"
    Ledger(f"sqlite:///{path}").close()
    old_key = "ab" * 32
    with sqlite3.connect(path) as db:  # as an older version left it
        db.execute("INSERT INTO meta (name, value) VALUES ('fingerprint_key', ?)", (old_key,))
    ledger = Ledger(f"sqlite:///{path}")
    assert ledger.fingerprint_key == bytes.fromhex(old_key)  # old fingerprints stay valid
    ledger.close()
    key_file = tmp_path / "ledger.db.key"
    assert key_file.read_text() == old_key + "\n"
    assert oct(key_file.stat().st_mode)[-3:] == "600"
    with sqlite3.connect(path) as db:
        assert db.execute(
            "SELECT count(*) FROM meta WHERE name = 'fingerprint_key'"
        ).fetchone() == (0,)


def test_a_key_file_others_can_read_is_refused(tmp_path, monkeypatch):
    from fjordsync.errors import LedgerError

    monkeypatch.delenv("FJORDSYNC_LEDGER_KEY", raising=False)
    key_file = tmp_path / "shared.key"
    key_file.write_text("cd" * 32 + "\n")
    key_file.chmod(0o644)
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.db'}", key_file=key_file)
    with pytest.raises(LedgerError) as caught:
        ledger.fingerprint_key  # noqa: B018
    assert str(caught.value) == (
        f"the fingerprint key file {key_file} can be read or written by others (mode 0644): "
        f"chmod 600 {key_file}"
    )
    ledger.close()
