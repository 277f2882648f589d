"""Finding and loading plugins: built-ins first, then the ``fjordsync`` entry points of installed
distributions, filtered by allow and deny lists from the environment.

- ``FJORDSYNC_PLUGINS=smartdok,alexis`` loads only the named entry points (built-ins always load);
- ``FJORDSYNC_DISABLE_PLUGINS=csv`` skips the named ones.

A plugin that fails to import, implements a hook that does not exist (``check_pending``), or
registers a connector name already taken is a ``PluginError``: a half-loaded plugin set would
make runs behave differently from what ``fjordsync plugins`` shows.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from fjordsync import hookspecs
from fjordsync.connectors import Connector
from fjordsync.errors import PluginError
from fjordsync.flows.catalog import flows_served

__all__ = [
    "ALLOW_ENV",
    "BUILTIN_PLUGINS",
    "DENY_ENV",
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "RegisteredConnector",
    "connectors",
    "get_plugin_manager",
    "plugin_infos",
    "sandboxes",
]

ENTRY_POINT_GROUP = "fjordsync"
ALLOW_ENV = "FJORDSYNC_PLUGINS"
DENY_ENV = "FJORDSYNC_DISABLE_PLUGINS"
# Modules inside the core that register the same way third-party plugins do.
BUILTIN_PLUGINS = ("fjordsync.testing.memory",)


@dataclass(frozen=True)
class PluginInfo:
    name: str
    module: str
    distribution: str
    version: str


@dataclass(frozen=True)
class RegisteredConnector:
    connector: Connector
    plugin: PluginInfo

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.connector.name,
            "title": self.connector.title,
            "plugin": self.plugin.name,
            "distribution": self.plugin.distribution,
            "version": self.plugin.version,
            "capabilities": list(self.connector.capabilities),
            "flows": {
                flow: list(sides)
                for flow, sides in flows_served(self.connector.capabilities).items()
            },
            "testing": self.connector.testing,
        }


def _names(value: str | None) -> set[str]:
    return {part.strip() for part in (value or "").split(",") if part.strip()}


def _core_info(name: str, module: str) -> PluginInfo:
    return PluginInfo(name, module, "fjordsync", metadata.version("fjordsync"))


class _Manager(pluggy.PluginManager):
    """pluggy's manager, knowing where each plugin it loaded came from (``plugin_infos``)."""

    fjordsync_infos: dict[str, PluginInfo]


def get_plugin_manager(
    *,
    builtins: Iterable[str] = BUILTIN_PLUGINS,
    entry_points: bool = True,
    environ: Mapping[str, str] | None = None,
) -> pluggy.PluginManager:
    """A plugin manager with the built-ins and the allowed installed plugins registered."""
    environ = os.environ if environ is None else environ
    manager = _Manager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}
    for module_name in builtins:
        module = importlib.import_module(module_name)
        name = module_name.rsplit(".", 1)[-1]
        manager.register(module, name=name)
        infos[name] = _core_info(name, module_name)
    if entry_points:
        allow, deny = _names(environ.get(ALLOW_ENV)), _names(environ.get(DENY_ENV))
        for entry_point in sorted(
            metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name
        ):
            if (allow and entry_point.name not in allow) or entry_point.name in deny:
                continue
            if manager.has_plugin(entry_point.name):
                raise PluginError(
                    f"two plugins are named {entry_point.name!r}; uninstall one of them"
                )
            try:
                module = entry_point.load()
            except Exception as exc:
                raise PluginError(
                    f"plugin {entry_point.name!r} ({entry_point.value}) failed to load: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            manager.register(module, name=entry_point.name)
            dist = entry_point.dist
            infos[entry_point.name] = PluginInfo(
                entry_point.name,
                entry_point.value,
                dist.name if dist else "unknown",
                dist.version if dist else "unknown",
            )
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        hook = re.search(r"unknown hook '([^']+)'", str(exc))
        raise PluginError(
            f"plugin {manager.get_name(exc.plugin)!r} implements an unknown hook "
            f"{hook.group(1) if hook else ''!r}: is the hook name misspelt?"
        ) from exc
    manager.fjordsync_infos = infos
    return manager


def plugin_infos(manager: pluggy.PluginManager) -> dict[str, PluginInfo]:
    return dict(getattr(manager, "fjordsync_infos", {}))


def connectors(manager: pluggy.PluginManager) -> dict[str, RegisteredConnector]:
    """Every connector the loaded plugins register, by name; a duplicate name is an error."""
    infos = plugin_infos(manager)
    found: dict[str, RegisteredConnector] = {}
    implementations = manager.hook.fjordsync_register_connectors.get_hookimpls()
    for implementation in sorted(implementations, key=lambda impl: impl.plugin_name):
        info = infos.get(implementation.plugin_name) or PluginInfo(
            implementation.plugin_name, repr(implementation.plugin), "unknown", "unknown"
        )

        def register(connector: Connector, _info: PluginInfo = info) -> None:
            if not isinstance(connector, Connector):
                raise PluginError(f"plugin {_info.name!r} registered something not a Connector")
            if connector.name in found:
                other = found[connector.name].plugin
                raise PluginError(
                    f"connector {connector.name!r} is registered by both plugin {other.name!r} "
                    f"({other.distribution}) and plugin {_info.name!r} ({_info.distribution})"
                )
            found[connector.name] = RegisteredConnector(connector, _info)

        implementation.function(register=register)
    return dict(sorted(found.items()))


def sandboxes(manager: pluggy.PluginManager) -> dict[str, Any]:
    """Every vendor sandbox the loaded plugins register, by name."""
    found: dict[str, Any] = {}

    def register(spec: Any) -> None:
        if spec.name in found:
            raise PluginError(f"two plugins register a sandbox named {spec.name!r}")
        found[spec.name] = spec

    manager.hook.fjordsync_register_sandboxes(register=register)
    return dict(sorted(found.items()))
