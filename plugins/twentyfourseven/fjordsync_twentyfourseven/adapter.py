"""24SevenOffice as two systems, two adapters, as importable before the plugin had ``erp/`` and
``payroll/``: ``TwentyFourSevenAdapter`` (the ERP, SOAP) is in ``erp.adapter``,
``PayrollAdapter`` (Lønn, REST) in ``payroll.adapter``."""

from fjordsync_twentyfourseven.erp.adapter import TwentyFourSevenAdapter
from fjordsync_twentyfourseven.payroll.adapter import SAVE_ATTEMPTS, PayrollAdapter

__all__ = ["SAVE_ATTEMPTS", "PayrollAdapter", "TwentyFourSevenAdapter"]
