"""24SevenOffice (SOAP web services and payroll REST) as a local server."""

from fjordsync_twentyfourseven.sandbox.payroll import DEFAULT_ACCESS_TOKEN
from fjordsync_twentyfourseven.sandbox.server import (
    DEFAULT_CREDENTIALS,
    DEFAULT_IDENTITIES,
    TwentyFourSevenSandbox,
)

__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "DEFAULT_CREDENTIALS",
    "DEFAULT_IDENTITIES",
    "TwentyFourSevenSandbox",
]
