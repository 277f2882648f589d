"""Wiring with dependency-injector: the one place adapters are chosen.

``CoreContainer`` declares what the use cases need as ``Dependency`` placeholders: a ``Clock`` and
the ``SyncState`` port the flows record in. A host product embedding fjordsync fills them with its
own objects (``CoreContainer(clock=..., state=...)``: a ``Ledger``, or its own state store), or
skips DI and calls the flow functions directly. ``AppContainer`` is the CLI's wiring: it fills the
core from the config file and the installed plugins, the state with its ledger.

The config and the ledger (pydantic models, SQLAlchemy) are imported when first provided, not
with this module: ``fjordsync plugins`` needs neither, and SQLAlchemy alone was a quarter of it.
"""

from __future__ import annotations

import inspect
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dependency_injector import containers, providers

from fjordsync import logs, plugins
from fjordsync.ports import Clock, SyncState

if TYPE_CHECKING:
    from fjordsync.config import Config
    from fjordsync.ledger import Ledger

__all__ = ["LEDGER_URL_ENV", "AppContainer", "CoreContainer", "SystemClock", "resolve_ledger_url"]

LEDGER_URL_ENV = "FJORDSYNC_LEDGER_URL"


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


_SYNC_STATE_MEMBERS = frozenset(
    {name for name in vars(SyncState) if not name.startswith("_")} | set(SyncState.__annotations__)
)


class _HasSyncStateMembers(type):
    def __instancecheck__(cls, instance: object) -> bool:
        # Looked up statically: reading a Ledger's ``fingerprint_key`` would create its key file
        # (or fail without one), and ``isinstance`` with a runtime protocol reads it on 3.11.
        missing = object()
        return all(
            inspect.getattr_static(instance, name, missing) is not missing
            for name in _SYNC_STATE_MEMBERS
        )


class ProvidesSyncState(metaclass=_HasSyncStateMembers):
    """``isinstance(x, ProvidesSyncState)``: ``x`` has every member of ``ports.SyncState``."""


class CoreContainer(containers.DeclarativeContainer):
    """What the use cases need from outside: the clock, and the ``SyncState`` port the flows
    record in (a ``Ledger`` provides it)."""

    # Clock is a runtime-checkable Protocol, which isinstance takes; mypy wants a concrete class.
    clock = providers.Dependency(instance_of=Clock)  # type: ignore[type-abstract]
    state = providers.Dependency(instance_of=ProvidesSyncState)


def _optional_config(path: str | None, connectors: dict) -> Config | None:
    if not path:
        return None
    from fjordsync.config import load_config

    config = load_config(path, connectors=connectors)
    # From here on no log record, error line or run message shows these values.
    logs.register_secrets(config.secret_values())
    return config


def resolve_ledger_url(explicit: str | None, config: Config | None) -> str:
    """--ledger, else the config file's ``[ledger] url``, else FJORDSYNC_LEDGER_URL, else
    ``fjordsync.db`` in the working directory."""
    if explicit:
        return explicit
    if config is not None:
        return config.ledger_url
    from fjordsync.ledger import DEFAULT_LEDGER_URL

    return os.environ.get(LEDGER_URL_ENV) or DEFAULT_LEDGER_URL


def ledger_key_file(config: Config | None) -> str | None:
    """The config's ``[ledger] key_file``; None leaves the choice to the ledger (the
    FJORDSYNC_LEDGER_KEY variables, else beside a SQLite file)."""
    return config.ledger_key_file if config is not None else None


def ledger_exists(url: str) -> bool:
    """Whether a SQLite ledger file is there already (read-only commands must not create one)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.endswith(":memory:"):
        return True
    return Path(url[len(prefix) :]).exists()


def _open_ledger(url: str, key_file: str | None) -> Ledger:
    from fjordsync.ledger import Ledger

    return Ledger(url=url, key_file=key_file)


class AppContainer(containers.DeclarativeContainer):
    """The CLI's wiring: ``AppContainer(); container.settings.from_dict({...})``."""

    settings = providers.Configuration()
    plugin_manager = providers.Singleton(plugins.get_plugin_manager)
    connectors = providers.Singleton(plugins.connectors, plugin_manager)
    config = providers.Singleton(_optional_config, settings.config_path, connectors)
    ledger_url = providers.Callable(resolve_ledger_url, settings.ledger_url, config)
    clock = providers.Singleton(SystemClock)
    ledger = providers.Singleton(
        _open_ledger, url=ledger_url, key_file=providers.Callable(ledger_key_file, config)
    )
    core = providers.Container(CoreContainer, clock=clock, state=ledger)
