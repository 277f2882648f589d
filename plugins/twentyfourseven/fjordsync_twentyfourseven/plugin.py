"""Registers the 24SevenOffice connector with fjordsync."""

from __future__ import annotations

from typing import Any

from fjordsync.connectors import Connector
from fjordsync.hookspecs import hookimpl
from fjordsync_twentyfourseven.settings import TwentyFourSevenSettings


@hookimpl
def fjordsync_register_connectors(register: Any) -> None:
    register(
        Connector(
            name="twentyfourseven",
            title="24SevenOffice (ERP over SOAP, payroll Lønn over REST)",
            settings=TwentyFourSevenSettings,
            system="24SevenOffice",
        )
    )
