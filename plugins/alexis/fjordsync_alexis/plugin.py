"""Registers the AlexisHR connector with fjordsync."""

from __future__ import annotations

from typing import Any

from fjordsync.connectors import Connector
from fjordsync.hookspecs import hookimpl
from fjordsync_alexis.settings import AlexisSettings


@hookimpl
def fjordsync_register_connectors(register: Any) -> None:
    register(
        Connector(
            name="alexis",
            title="AlexisHR (HR, REST)",
            settings=AlexisSettings,
            system="AlexisHR",
        )
    )
