"""Registers the AlexisHR connector and its sandbox with fjordsync."""

from __future__ import annotations

from typing import Any

from fjordsync.connectors import Connector, SandboxSpec
from fjordsync.hookspecs import hookimpl
from fjordsync_alexis.settings import AlexisSettings
from fjordsync_alexis.wording import WORDING


@hookimpl
def fjordsync_register_connectors(register: Any) -> None:
    register(
        Connector(
            name="alexis",
            title="AlexisHR (HR, REST)",
            settings=AlexisSettings,
            # Imported only when a run uses AlexisHR; the capabilities are checked then.
            adapter="fjordsync_alexis.adapter:AlexisAdapter",
            capabilities=(
                "EmployeeReader",
                "EmploymentReader",
                "CompensationReader",
                "AbsenceReader",
            ),
            system="AlexisHR",
            wording=WORDING,
        )
    )


def _sandbox_server(state: dict | None = None, faults: Any = None) -> Any:
    from fjordsync_alexis.sandbox import AlexisSandbox

    return AlexisSandbox(state, faults)


def _generate(employees: int = 60, seed: int = 1, **options: Any) -> dict:
    from fjordsync_alexis.sandbox import generate

    return generate(employees=employees, seed=seed, **options)


def _connection(url: str) -> dict[str, Any]:
    from fjordsync_alexis.sandbox import DEFAULT_TOKEN

    return {"alexis": {"base_url": f"{url}/v1", "token": DEFAULT_TOKEN}}


@hookimpl
def fjordsync_register_sandboxes(register: Any) -> None:
    register(
        SandboxSpec(
            name="alexis",
            title="AlexisHR API v1",
            server=_sandbox_server,
            generate=_generate,
            connection=_connection,
        )
    )
