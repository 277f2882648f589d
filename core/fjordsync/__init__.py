"""fjordsync: keeps HR, project and time data in step between Nordic business systems.

The supported public API is what ``__all__`` lists: the domain records and value objects, the
planning functions, the ports, the plugin hook marker and the error tree. Importing fjordsync
runs nothing: no plugin is loaded, no database opened, no network touched.

Nor does it import the API: each name is imported the first time it is used (PEP 562), so a
command that needs none of it (``fjordsync --help``) does not pay for pydantic and the domain.
The imports under ``TYPE_CHECKING`` are what type checkers see; ``_EXPORTS`` says where each
name lives at run time (a test holds the two equal).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fjordsync.connectors import Connector
    from fjordsync.domain.codes import (
        AbsenceCode,
        EmploymentForm,
        EndDateReason,
        LeaveKind,
        LeaveStatus,
        PayoutPeriod,
        SalaryType,
    )
    from fjordsync.domain.diff import (
        Action,
        ActionKind,
        Decision,
        FieldChange,
        FieldSpec,
        Plan,
        Record,
        apply,
        fingerprint,
        plan,
    )
    from fjordsync.domain.matching import MatchResult, match
    from fjordsync.domain.model import (
        Absence,
        Address,
        CodeItem,
        Compensation,
        Employee,
        Employment,
        InvalidRecord,
        Project,
        Salary,
        TimeEntry,
    )
    from fjordsync.domain.values import BankAccount, DateRange, Email, NationalId, PhoneNumber
    from fjordsync.errors import (
        AuthFailed,
        ConfigError,
        ConnectorError,
        FjordsyncError,
        InvalidValue,
        LedgerError,
        PluginError,
        RateLimited,
        Rejected,
        RunLocked,
        Unavailable,
    )
    from fjordsync.hookspecs import hookimpl
    from fjordsync.ports import Query, Scope

__all__ = [
    "Absence",
    "AbsenceCode",
    "Action",
    "ActionKind",
    "Address",
    "AuthFailed",
    "BankAccount",
    "CodeItem",
    "Compensation",
    "ConfigError",
    "Connector",
    "ConnectorError",
    "DateRange",
    "Decision",
    "Email",
    "Employee",
    "Employment",
    "EmploymentForm",
    "EndDateReason",
    "FieldChange",
    "FieldSpec",
    "FjordsyncError",
    "InvalidRecord",
    "InvalidValue",
    "LeaveKind",
    "LeaveStatus",
    "LedgerError",
    "MatchResult",
    "NationalId",
    "PayoutPeriod",
    "PhoneNumber",
    "Plan",
    "PluginError",
    "Project",
    "Query",
    "RateLimited",
    "Record",
    "Rejected",
    "RunLocked",
    "Salary",
    "SalaryType",
    "Scope",
    "TimeEntry",
    "Unavailable",
    "apply",
    "fingerprint",
    "hookimpl",
    "match",
    "plan",
]

# Where each name of the API lives: imported on first use.
_EXPORTS: dict[str, str] = {
    "Connector": "fjordsync.connectors",
    "AbsenceCode": "fjordsync.domain.codes",
    "EmploymentForm": "fjordsync.domain.codes",
    "EndDateReason": "fjordsync.domain.codes",
    "LeaveKind": "fjordsync.domain.codes",
    "LeaveStatus": "fjordsync.domain.codes",
    "PayoutPeriod": "fjordsync.domain.codes",
    "SalaryType": "fjordsync.domain.codes",
    "Action": "fjordsync.domain.diff",
    "ActionKind": "fjordsync.domain.diff",
    "Decision": "fjordsync.domain.diff",
    "FieldChange": "fjordsync.domain.diff",
    "FieldSpec": "fjordsync.domain.diff",
    "Plan": "fjordsync.domain.diff",
    "Record": "fjordsync.domain.diff",
    "apply": "fjordsync.domain.diff",
    "fingerprint": "fjordsync.domain.diff",
    "plan": "fjordsync.domain.diff",
    "MatchResult": "fjordsync.domain.matching",
    "match": "fjordsync.domain.matching",
    "Absence": "fjordsync.domain.model",
    "Address": "fjordsync.domain.model",
    "CodeItem": "fjordsync.domain.model",
    "Compensation": "fjordsync.domain.model",
    "Employee": "fjordsync.domain.model",
    "Employment": "fjordsync.domain.model",
    "InvalidRecord": "fjordsync.domain.model",
    "Project": "fjordsync.domain.model",
    "Salary": "fjordsync.domain.model",
    "TimeEntry": "fjordsync.domain.model",
    "BankAccount": "fjordsync.domain.values",
    "DateRange": "fjordsync.domain.values",
    "Email": "fjordsync.domain.values",
    "NationalId": "fjordsync.domain.values",
    "PhoneNumber": "fjordsync.domain.values",
    "AuthFailed": "fjordsync.errors",
    "ConfigError": "fjordsync.errors",
    "ConnectorError": "fjordsync.errors",
    "FjordsyncError": "fjordsync.errors",
    "InvalidValue": "fjordsync.errors",
    "LedgerError": "fjordsync.errors",
    "PluginError": "fjordsync.errors",
    "RateLimited": "fjordsync.errors",
    "Rejected": "fjordsync.errors",
    "RunLocked": "fjordsync.errors",
    "Unavailable": "fjordsync.errors",
    "hookimpl": "fjordsync.hookspecs",
    "Query": "fjordsync.ports",
    "Scope": "fjordsync.ports",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fjordsync' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next use is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
