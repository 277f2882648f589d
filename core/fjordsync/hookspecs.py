"""pluggy hook specifications: how a plugin tells fjordsync what it provides.

A plugin is a module (found through the ``fjordsync`` entry-point group of an installed
distribution) with functions marked ``@hookimpl``. Hooks take a ``register`` callback, so a
plugin can provide several things and fjordsync can check each one as it arrives::

    from fjordsync.hookspecs import hookimpl
    from fjordsync.connectors import Connector

    @hookimpl
    def fjordsync_register_connectors(register):
        register(Connector(name="csv", title="CSV files", settings=CsvSettings,
                           adapter=CsvAdapter))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT_NAME = "fjordsync"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def fjordsync_register_connectors(register: Callable[[Any], None]) -> None:
    """Call ``register(connector)`` with a ``fjordsync.connectors.Connector`` for each
    connector this plugin provides. Connector names are unique across all plugins."""


@hookspec
def fjordsync_register_sandboxes(register: Callable[[Any], None]) -> None:
    """Call ``register(sandbox)`` with a ``fjordsync.connectors.SandboxSpec`` for each vendor
    sandbox this plugin ships (served by ``fjordsync sandbox serve NAME``)."""
