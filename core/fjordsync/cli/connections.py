"""``fjordsync connections test``: try each connection's credentials, reading only.

For each connection of each tenant (or of ``--tenant``), its adapter is built from the config's
settings and asked one read: the adapter's own ``verify_credentials()`` when it has one (a
cheap call chosen by the connector: ``async def verify_credentials(self) -> str`` returning
what it read, e.g. "read 4 departments"), else the cheapest list read among the ports the
connector declares (``READS``, in order). Nothing is written. One line per connection: ``ok``
with what was read, or the error, masked like every error (no secret, no personal value:
only counts are shown). Exit 1 when any connection fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import typer

from fjordsync import logs
from fjordsync.cli.app import (
    EXIT_PARTIAL,
    ConfigFileOption,
    JsonOption,
    TenantOption,
    app,
    container,
    fail,
    loaded_config,
    out,
    print_json,
)
from fjordsync.errors import FjordsyncError

__all__ = ["READS", "ConnectionCheck", "connections_app", "test_connection"]

connections_app = typer.Typer(
    help="The config's connections: try their credentials.", no_args_is_help=True
)
app.add_typer(connections_app, name="connections")


def _count(items: Any, noun: str) -> str:
    number = len(items)
    return f"read {number} {noun if number == 1 else noun + 's'}"


async def _licenses(adapter: Any) -> str:
    return f"{await adapter.free_licenses()} free licenses"


def _lister(method: str, noun: str) -> Callable[[Any], Awaitable[str]]:
    async def read(adapter: Any) -> str:
        from fjordsync.ports import Query, Scope

        return _count(await getattr(adapter, method)(Query(scope=Scope())), noun)

    return read


# Port -> a read through it, cheapest first: a connector is asked the first its ports have.
READS: dict[str, Callable[[Any], Awaitable[str]]] = {
    "LicenseReader": _licenses,
    "ProjectReader": _lister("read_projects", "project"),
    "EmployeeReader": _lister("read_employees", "employee"),
    "AbsenceReader": _lister("read_absences", "absence"),
    "TimeEntryReader": _lister("read_time_entries", "hour"),
}


@dataclass(frozen=True)
class ConnectionCheck:
    tenant: str
    connection: str
    plugin: str
    ok: bool
    detail: str  # what was read, or the error (masked)
    seconds: float


async def test_connection(
    tenant: str, connection: str, plugin: str, registered: Any, settings: Any
) -> ConnectionCheck:
    """Build the connection's adapter, make one read with it, close it."""
    started = time.monotonic()

    def done(ok: bool, detail: str) -> ConnectionCheck:
        return ConnectionCheck(
            tenant,
            connection,
            plugin,
            ok,
            logs.escape_controls(logs.redact(detail)),
            time.monotonic() - started,
        )

    try:
        adapter = registered.connector.build(settings)
    except Exception as exc:  # a plugin that fails to load or build: this connection's
        return done(False, f"cannot build it: {_message(exc)}")
    try:
        verify = getattr(adapter, "verify_credentials", None)
        if verify is None:
            port = next((p for p in READS if p in registered.connector.capabilities), None)
            if port is None:
                return done(False, "its connector declares no port that can read")
            return done(True, await READS[port](adapter))
        return done(True, await verify())
    except Exception as exc:
        return done(False, _message(exc))
    finally:
        close = getattr(adapter, "aclose", None)
        if close is not None:
            try:
                await close()
            except Exception:  # closing after a failure must not hide the failure
                logging.getLogger("fjordsync.cli").debug("closing %s failed", connection)


def _message(exc: BaseException) -> str:
    """A fjordsync error's own message (they never carry a credential); for anything else its
    class only, since a library's text may quote what it was given."""
    if isinstance(exc, FjordsyncError):
        return str(exc)
    return f"unexpected {type(exc).__name__} (see the log file)"


async def _test_all(config: Any, connectors: Any, tenants: list[str]) -> list[ConnectionCheck]:
    checks: list[ConnectionCheck] = []
    for tenant in tenants:
        for name, connection in config.tenants[tenant].connections.items():
            checks.append(
                await test_connection(
                    tenant,
                    name,
                    connection.plugin,
                    connectors[connection.plugin],
                    config.connection_settings[tenant][name],
                )
            )
    return checks


@connections_app.command("test")
def connections_test(
    config_file: ConfigFileOption,
    tenant: TenantOption = None,
    as_json: JsonOption = False,
) -> None:
    """Try each connection's credentials with one read (nothing is written); exit 1 when any
    fails."""
    try:
        built = container(config=config_file)
        config = loaded_config(built)
        tenants = [config.tenant(tenant)[0]] if tenant is not None else sorted(config.tenants)
        checks = asyncio.run(_test_all(config, built.connectors(), tenants))
    except FjordsyncError as exc:
        fail(exc, as_json)
    broken = [] if tenant is not None else sorted(config.broken)
    if as_json:
        print_json(
            {
                "connections": [
                    {
                        "tenant": c.tenant,
                        "connection": c.connection,
                        "plugin": c.plugin,
                        "ok": c.ok,
                        "detail": c.detail,
                        "seconds": round(c.seconds, 3),
                    }
                    for c in checks
                ],
                "broken_tenants": broken,
            }
        )
    else:
        for check in checks:
            status = "ok    " if check.ok else "failed"
            out.print(
                f"{status} {check.tenant}.{check.connection} ({check.plugin}): {check.detail}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
        for name in broken:
            out.print(
                f"skipped tenant {name}: its config has problems "
                f"(fjordsync config check --config {config_file})",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
    if any(not check.ok for check in checks):
        raise typer.Exit(EXIT_PARTIAL)
