"""The fjordsync error tree.

Everything fjordsync raises on purpose derives from ``FjordsyncError``::

    FjordsyncError
    ├── InvalidValue          a value failed a domain rule (names the field, never the value)
    ├── ConfigError           a config file, secret or plugin set-up is wrong
    │   └── PluginError       a plugin could not be loaded or registered
    ├── LedgerError           the sync state could not be read or written
    │   └── RunLocked         another run of the same flow for the same tenant is going on
    └── ConnectorError        a vendor system did not do what was asked
        ├── Unavailable       transport failure, 5xx, or retries exhausted: try again later
        ├── AuthFailed        credentials refused, session dead after one re-login, missing rights
        ├── RateLimited       the vendor's request budget is spent; ``resume_at`` says when to go on
        └── Rejected          the vendor refused the request itself (validation): never retried

Each error carries context (``system``, ``operation``, ``record``) so a clerk can find what went
wrong, but never personal data: messages are built from field names, codes and record keys only.
Adapters translate vendor failures into this tree; the core sees nothing else.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "AuthFailed",
    "ConfigError",
    "ConnectorError",
    "FjordsyncError",
    "InvalidValue",
    "LedgerError",
    "PluginError",
    "RateLimited",
    "Rejected",
    "RunLocked",
    "Unavailable",
]


class FjordsyncError(Exception):
    """Base of every error fjordsync raises on purpose."""


class InvalidValue(FjordsyncError, ValueError):
    """A value does not satisfy a domain rule.

    ``field`` names what was wrong; the message explains the rule. The offending value itself is
    never kept, because it may be a fødselsnummer, an account number or a salary.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class ConfigError(FjordsyncError):
    """The configuration is wrong: names the file and key path where known."""

    def __init__(self, message: str, *, file: str | None = None, path: str | None = None) -> None:
        self.file = file
        self.path = path
        where = ": ".join(part for part in (file, path) if part)
        super().__init__(f"{where}: {message}" if where else message)


class PluginError(ConfigError):
    """A plugin could not be loaded or registered (for example a duplicate connector name)."""


class LedgerError(FjordsyncError):
    """The ledger (sync state and run history) could not be read or written."""


class RunLocked(LedgerError):
    """Another run of the same flow for the same tenant holds the lock."""

    def __init__(self, tenant: str, flow: str, holder: str) -> None:
        self.tenant = tenant
        self.flow = flow
        self.holder = holder
        super().__init__(
            f"flow {flow!r} for tenant {tenant!r} is already running ({holder}); "
            "wait for it to finish"
        )


class ConnectorError(FjordsyncError):
    """A vendor system did not do what was asked.

    ``system`` is the connector name, ``operation`` the vendor operation (``SaveHour``,
    ``POST /employee/v2``), ``record`` the key of the record concerned, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        system: str,
        operation: str,
        record: str | None = None,
    ) -> None:
        self.message = message
        self.system = system
        self.operation = operation
        self.record = record
        where = f"{system} {operation}" + (f" (record {record})" if record else "")
        super().__init__(f"{where}: {message}")


class Unavailable(ConnectorError):
    """The system could not be reached or kept failing; the work is retried next run."""


class AuthFailed(ConnectorError):
    """Credentials were refused, or a permission is missing."""


class RateLimited(ConnectorError):
    """The vendor's request budget is spent. ``resume_at`` is when work may go on, if known."""

    def __init__(
        self,
        message: str,
        *,
        system: str,
        operation: str,
        record: str | None = None,
        resume_at: datetime | None = None,
    ) -> None:
        self.resume_at = resume_at
        super().__init__(message, system=system, operation=operation, record=record)


class Rejected(ConnectorError):
    """The system refused the request itself (validation, conflict); retrying will not help."""
