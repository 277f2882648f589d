"""Registers the SmartDok connector and its sandbox with fjordsync."""

from __future__ import annotations

from typing import Any

from fjordsync.connectors import Connector, SandboxSpec
from fjordsync.hookspecs import hookimpl
from fjordsync_smartdok.settings import SmartDokSettings
from fjordsync_smartdok.wording import WORDING


@hookimpl
def fjordsync_register_connectors(register: Any) -> None:
    register(
        Connector(
            name="smartdok",
            title="SmartDok (time registration, REST)",
            settings=SmartDokSettings,
            # Imported only when a run uses SmartDok; the capabilities are checked then.
            adapter="fjordsync_smartdok.adapter:SmartDokAdapter",
            capabilities=(
                "EmployeeReader",
                "EmployeeWriter",
                "ProjectReader",
                "ProjectWriter",
                "TimeEntryReader",
                "ExportMarker",
                "CodeListReader",
                "LicenseReader",
            ),
            system="SmartDok",
            wording=WORDING,
        )
    )


def _sandbox_server(state: dict | None = None, faults: Any = None) -> Any:
    from fjordsync_smartdok.sandbox import SmartDokSandbox

    return SmartDokSandbox(state, faults)


def _generate(employees: int = 60, seed: int = 1, **options: Any) -> dict:
    from fjordsync_smartdok.sandbox import generate

    return generate(employees=employees, seed=seed, **options)


def _connection(url: str) -> dict[str, Any]:
    from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN

    return {"smartdok": {"base_url": url, "api_token": DEFAULT_API_TOKEN}}


@hookimpl
def fjordsync_register_sandboxes(register: Any) -> None:
    register(
        SandboxSpec(
            name="smartdok",
            title="SmartDok API",
            server=_sandbox_server,
            generate=_generate,
            connection=_connection,
            # The demo's SmartDok has the misalignments seed 000 warns about, for `check`.
            demo={"misaligned": True},
        )
    )
