"""``--log-format json``: runs at DEBUG against the leak test's dirty, faulty sandboxes write one
JSON object a line, and mask exactly what the text format masks (no personal number, account,
IBAN, salary, address or secret, neither in the raw lines nor in their decoded values)."""

from __future__ import annotations

import json

from .conftest import erp_and_smartdok_config, erp_smartdok_env, fjordsync
from .test_leaks import FLOWS, _hits, _personal_values, company  # noqa: F401  (the fixture)


def test_json_lines_at_debug_parse_and_leak_nothing(company, tmp_path):  # noqa: F811
    _servers, states, config, secrets = company
    log_file = tmp_path / "debug.jsonl"
    for flow, extra in FLOWS:
        result = fjordsync(
            "run", flow, "--config", str(config), *extra,
            "--log-level", "DEBUG", "--log-format", "json", "--log-file", str(log_file),
        )  # fmt: skip
        assert "Traceback" not in result.stderr, (flow, result.stderr)
        assert result.returncode in (0, 1), (flow, result.stdout, result.stderr)
    lines = log_file.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert len(records) > 100
    assert all(
        set(record) - {"run", "tenant", "flow", "exc_info", "stack_info"}
        == {"time", "level", "logger", "message"}
        for record in records
    )
    assert all(record["time"].endswith("Z") and "T" in record["time"] for record in records)
    assert {"DEBUG", "INFO"} <= {record["level"] for record in records}
    assert {"httpx", "httpcore.http11"} <= {record["logger"] for record in records}
    # Tokens go in URLs and headers; what httpx and httpcore logged of them is masked.
    assert any("***" in record["message"] for record in records)

    values = _personal_values(states)
    decoded = "\n".join(str(value) for record in records for value in record.values())
    assert _hits("\n".join(lines), values) == []
    assert _hits(decoded, values) == []
    for secret in secrets:
        assert secret not in decoded and secret not in "\n".join(lines), "a secret leaked"


def test_the_format_from_the_environment_and_an_unknown_one(tmp_path):
    """$FJORDSYNC_LOG_FORMAT on stderr: a new ledger's migration, logged at INFO by alembic."""
    config = tmp_path / "fjordsync.toml"
    config.write_text(
        erp_and_smartdok_config("http://127.0.0.1:9", "http://127.0.0.1:9")
        + '[tenants.acme.flows.hours]\nsource = "time"\ntarget = "erp"\n',
        encoding="utf-8",
    )
    env = {**erp_smartdok_env(), "FJORDSYNC_LOG_FORMAT": "json"}
    shown = fjordsync("state", "show", "hours", "-c", str(config), "--log-level", "INFO", env=env)
    assert shown.returncode == 0, shown.stderr
    records = [json.loads(line) for line in shown.stderr.splitlines()]
    assert {
        "level": "INFO",
        "logger": "alembic.runtime.migration",
        "message": "Running upgrade  -> 0001, initial schema",
    } in [{key: record[key] for key in ("level", "logger", "message")} for record in records]
    unknown = fjordsync("state", "show", "hours", "-c", str(config), "--log-format", "yaml")
    assert unknown.returncode == 2
    assert "'yaml' is not one of text, json" in unknown.stderr


def test_a_record_carries_its_run_and_its_exception_masked(tmp_path):
    """In-process, as a host or the runner logs: the run's context and the traceback as text,
    masked like the message."""
    import logging

    from fjordsync import logs

    log_file = tmp_path / "host.jsonl"
    logs.configure("INFO", log_file, "json")
    try:
        with logs.run_context(run=12, tenant="acme", flow="hours"):
            try:
                raise ValueError("login refused for password=hunter2hunter2")
            except ValueError:
                logging.getLogger("fjordsync.test").exception("person %s failed", "15108695077")
        logging.getLogger("fjordsync.test").warning("outside", extra={"flow": "projects"})
    finally:
        logs.reset()
    first, second = (json.loads(line) for line in log_file.read_text().splitlines())
    assert {key: first[key] for key in ("level", "logger", "message", "run", "tenant", "flow")} == {
        "level": "ERROR",
        "logger": "fjordsync.test",
        "message": "person *** failed",
        "run": 12,
        "tenant": "acme",
        "flow": "hours",
    }
    assert first["exc_info"].startswith("Traceback (most recent call last):")
    assert first["exc_info"].endswith("ValueError: login refused for password=***")
    assert {key: second[key] for key in second if key != "time"} == {
        "level": "WARNING",
        "logger": "fjordsync.test",
        "message": "outside",
        "flow": "projects",
    }
