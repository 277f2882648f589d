"""fjordsync: keeps HR, project and time data in step between Nordic business systems.

The supported public API is what ``__all__`` lists: the domain records and value objects, the
planning functions, the ports, the plugin hook marker and the error tree. Importing fjordsync
runs nothing: no plugin is loaded, no database opened, no network touched.
"""

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
