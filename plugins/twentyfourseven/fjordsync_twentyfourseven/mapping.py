"""The 24SevenOffice mapping, as importable before the plugin had ``erp/`` and ``payroll/``: the
ERP's SOAP records are translated in ``erp.mapping``, payroll's JSON in ``payroll.mapping``, and
what both use is in ``shared``."""

from fjordsync_twentyfourseven.erp.mapping import code_item, hour, person, project, time_entry
from fjordsync_twentyfourseven.payroll.mapping import (
    payroll_absence,
    payroll_absence_body,
    payroll_employee,
    payroll_employee_body,
    payroll_employment,
    payroll_employment_body,
)
from fjordsync_twentyfourseven.shared import (
    FIX_IN_ERP,
    FIX_IN_PAYROLL,
    MARKER_PREFIX,
    NOT_TEXT,
    UNREADABLE,
    UNSET_INT,
    UNSET_YEAR,
    Unfit,
    no_sentinel,
    numbered,
)

__all__ = [
    "FIX_IN_ERP",
    "FIX_IN_PAYROLL",
    "MARKER_PREFIX",
    "NOT_TEXT",
    "UNREADABLE",
    "UNSET_INT",
    "UNSET_YEAR",
    "Unfit",
    "code_item",
    "hour",
    "no_sentinel",
    "numbered",
    "payroll_absence",
    "payroll_absence_body",
    "payroll_employee",
    "payroll_employee_body",
    "payroll_employment",
    "payroll_employment_body",
    "person",
    "project",
    "time_entry",
]
