"""Registers the 24SevenOffice connectors (ERP and payroll) and their sandbox with fjordsync."""

from __future__ import annotations

from typing import Any

from fjordsync.connectors import Connector, SandboxSpec
from fjordsync.hookspecs import hookimpl
from fjordsync_twentyfourseven.settings import PayrollSettings, TwentyFourSevenSettings
from fjordsync_twentyfourseven.wording import ERP_WORDING, PAYROLL_WORDING


@hookimpl
def fjordsync_register_connectors(register: Any) -> None:
    register(
        Connector(
            name="twentyfourseven",
            title="24SevenOffice ERP (SOAP web services)",
            settings=TwentyFourSevenSettings,
            # Imported (with zeep) only when a run uses the ERP; the capabilities are checked
            # then.
            adapter="fjordsync_twentyfourseven.erp.adapter:TwentyFourSevenAdapter",
            capabilities=(
                "EmployeeReader",
                "ProjectReader",
                "TimeEntryReader",
                "TimeEntryWriter",
                "CodeListReader",
            ),
            system="24SevenOffice",
            wording=ERP_WORDING,
        )
    )
    register(
        Connector(
            name="twentyfourseven-payroll",
            title="24SevenOffice Lønn (payroll REST)",
            settings=PayrollSettings,
            adapter="fjordsync_twentyfourseven.payroll.adapter:PayrollAdapter",
            capabilities=(
                "EmployeeReader",
                "EmployeeWriter",
                "EmploymentReader",
                "EmploymentWriter",
                "AbsenceReader",
                "AbsenceWriter",
                "ChildReader",
            ),
            system="24SevenOffice Lønn",
            wording=PAYROLL_WORDING,
        )
    )


def _sandbox_server(state: dict | None = None, faults: Any = None) -> Any:
    from fjordsync_twentyfourseven.sandbox import TwentyFourSevenSandbox

    return TwentyFourSevenSandbox(state, faults)


def _generate(employees: int = 60, seed: int = 1, **options: Any) -> dict:
    from fjordsync_twentyfourseven.sandbox.generator import generate

    return generate(employees=employees, seed=seed, **options)


def _connection(url: str) -> dict[str, Any]:
    from fjordsync_twentyfourseven.sandbox import (
        DEFAULT_ACCESS_TOKEN,
        DEFAULT_CREDENTIALS,
        DEFAULT_IDENTITIES,
    )

    return {
        "twentyfourseven": {
            "api_url": url,
            "webservices_url": url,
            "application_id": DEFAULT_CREDENTIALS["ApplicationId"],
            "username": DEFAULT_CREDENTIALS["Username"],
            "password": DEFAULT_CREDENTIALS["Password"],
            "identity_id": DEFAULT_IDENTITIES[0]["Id"],
        },
        "twentyfourseven-payroll": {
            "payroll_url": f"{url}/payroll/api",
            "access_token": DEFAULT_ACCESS_TOKEN,
        },
    }


@hookimpl
def fjordsync_register_sandboxes(register: Any) -> None:
    register(
        SandboxSpec(
            name="twentyfourseven",
            title="24SevenOffice SOAP web services and payroll REST",
            server=_sandbox_server,
            generate=_generate,
            connection=_connection,
        )
    )
