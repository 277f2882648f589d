"""Registers the SmartDok connector with fjordsync."""

from __future__ import annotations

from typing import Any

from fjordsync.connectors import Connector
from fjordsync.hookspecs import hookimpl
from fjordsync_smartdok.settings import SmartDokSettings


@hookimpl
def fjordsync_register_connectors(register: Any) -> None:
    register(
        Connector(
            name="smartdok",
            title="SmartDok (time registration, REST)",
            settings=SmartDokSettings,
            system="SmartDok",
        )
    )
