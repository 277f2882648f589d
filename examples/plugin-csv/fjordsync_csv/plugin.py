"""Registers the csv connector: the whole of a plugin is one hook implementation."""

from typing import Any

from fjordsync import Connector, hookimpl
from fjordsync_csv.adapter import CsvEmployees, CsvSettings


@hookimpl
def fjordsync_register_connectors(register: Any) -> None:
    register(
        Connector(
            name="csv",
            title="Employees from a CSV file (example plugin)",
            settings=CsvSettings,
            adapter=CsvEmployees,
            system="CSV",
        )
    )
