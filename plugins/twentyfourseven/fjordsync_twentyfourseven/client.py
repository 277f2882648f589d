"""Transport to 24SevenOffice, as it was importable before the plugin had ``erp/`` and
``payroll/``: the SOAP client is in ``erp.client``, the payroll one in ``payroll.client``."""

from fjordsync.transport import RetryPolicy
from fjordsync_twentyfourseven.erp.client import (
    _BUDGETS,
    NO_IDENTITY,
    SERVICES,
    TNS,
    WSDL_DIR,
    RateBudget,
    SoapClient,
    clean_xml,
    fault_message,
)
from fjordsync_twentyfourseven.payroll.client import PayrollAnswer, PayrollClient
from fjordsync_twentyfourseven.shared import PAYROLL, SYSTEM, OutcomeUnknown, scrub

__all__ = [
    "NO_IDENTITY",
    "PAYROLL",
    "SERVICES",
    "SYSTEM",
    "TNS",
    "WSDL_DIR",
    "_BUDGETS",
    "OutcomeUnknown",
    "PayrollAnswer",
    "PayrollClient",
    "RateBudget",
    "RetryPolicy",
    "SoapClient",
    "clean_xml",
    "fault_message",
    "scrub",
]
