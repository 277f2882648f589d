"""Fixtures for integration tests: ledgers on SQLite and, when a server is given, PostgreSQL."""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

# Shared with the distributed tests: one tenant config text, and one emptying, which drops their
# table (dispatched runs) too: left behind, it would meet the migration that makes it next time.
from tests.distributed.processes import connections_section, empty_ledger, ledger_section

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("FJORDSYNC_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    if not POSTGRES_URL:
        pytest.skip(
            "set FJORDSYNC_TEST_POSTGRES_URL to run the PostgreSQL ledger tests "
            "(.ci/run starts a server and sets it)"
        )
    return empty_ledger(POSTGRES_URL)


def load_benchmark(name: str):
    """``benchmarks/NAME.py`` as a module, loaded once: the benchmarks are scripts, not a package
    (``fjordsync_benchmark_NAME`` in sys.modules, so a second test gets the same module)."""
    module_name = f"fjordsync_benchmark_{name}"
    if module_name not in sys.modules:
        path = ROOT / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None, path
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def fjordsync(*args, env=None, cwd=ROOT, check=False):
    """Run the installed ``fjordsync`` command as a user would."""
    command = [str(Path(sys.executable).parent / "fjordsync"), *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=check,
        timeout=120,
    )


def erp_and_smartdok_config(
    erp_url: str, smartdok_url: str, *, ledger: str | Path = "ledger.db"
) -> str:
    """Config text (ledger, tenant ``acme``, connections ``erp`` and ``time``) for flows between
    a 24SevenOffice and a SmartDok sandbox; secrets as references to ``ERP_SMARTDOK_ENV``."""
    ledger_text = ledger_section(f"sqlite:///{ledger}")
    return ledger_text + connections_section("acme", erp_url, smartdok_url)


def hr_and_payroll_config(
    hr_url: str,
    erp_url: str,
    *,
    ledger: str | Path = "ledger.db",
    absence_types: Sequence[str] = (),
) -> str:
    """Config text (ledger, tenant ``acme``, connections ``hr`` and ``payroll``, flows
    ``payroll-employees`` and ``absences``, the latter scoped to ``absence_types`` when given)
    between an AlexisHR and a payroll sandbox; secrets as references (``HR_TOKEN``,
    ``PAYROLL_TOKEN``)."""
    scope = (
        f"scope = {{ absence_types = {json.dumps(list(absence_types))} }}" if absence_types else ""
    )
    return textwrap.dedent(f"""
        [ledger]
        url = "sqlite:///{ledger}"
        [tenants.acme.connections.hr]
        plugin = "alexis"
        settings = {{ base_url = "{hr_url}/v1", token = "${{HR_TOKEN}}" }}
        [tenants.acme.connections.payroll]
        plugin = "twentyfourseven-payroll"
        [tenants.acme.connections.payroll.settings]
        payroll_url = "{erp_url}/payroll/api"
        access_token = "${{PAYROLL_TOKEN}}"
        [tenants.acme.flows.payroll-employees]
        source = "hr"
        target = "payroll"
        [tenants.acme.flows.absences]
        source = "hr"
        target = "payroll"
        {scope}
    """)


def erp_smartdok_env() -> dict[str, str]:
    from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN
    from fjordsync_twentyfourseven.sandbox import DEFAULT_CREDENTIALS

    return {
        "TFSO_APP": DEFAULT_CREDENTIALS["ApplicationId"],
        "TFSO_PW": DEFAULT_CREDENTIALS["Password"],
        "SD_TOKEN": DEFAULT_API_TOKEN,
    }
