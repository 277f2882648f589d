"""The config `fjordsync sandbox up` writes: tenant ``demo`` with every flow wired to the running
sandboxes.

Nothing here names a vendor. Each flow's ``roles`` (``fjordsync.flows.registry``) name its
source and target connections (``erp``, ``time``, ...); a role's connector is the one among the
sandboxes' connectors that can take that role's side of every flow it has; its settings are what
the sandbox registration gives for it (``SandboxSpec.connection(url)``). Settings the connector's
model types as secrets go to a secrets file beside the config, referred to as ``${NAME}``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import tomli_w

from fjordsync import logs
from fjordsync.errors import FjordsyncError

TENANT = "demo"
SCHEDULE = {"days": ["mon", "tue", "wed", "thu", "fri"], "time": "06:30"}
HEADER = "# Written by `fjordsync sandbox up`: the demo tenant, wired to the sandboxes.\n"


def wiring(
    capabilities: Mapping[str, tuple[str, ...]],
) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """The demo's connections (role -> connector) and flows (flow -> (source role, target
    role)), from the flow registry and ``capabilities`` (connector -> the ports it has). A flow
    whose two roles are not both served is left out; a role two connectors could take is an
    error, not a guess."""
    from fjordsync.flows.registry import FLOWS, flows_served

    needs: dict[str, list[tuple[str, str]]] = {}
    for flow in FLOWS.values():
        for role, side in zip(flow.roles, ("source", "target"), strict=True):
            needs.setdefault(role, []).append((flow.name, side))
    served = {name: flows_served(ports) for name, ports in capabilities.items()}
    connections: dict[str, str] = {}
    for role, sides in needs.items():
        fits = [
            name
            for name, flows in served.items()
            if all(side in flows.get(flow, ()) for flow, side in sides)
        ]
        if len(fits) > 1:
            raise FjordsyncError(
                f"the demo's {role!r} connection could be any of {', '.join(fits)}: "
                "uninstall the sandboxes it does not need"
            )
        if fits:
            connections[role] = fits[0]
    flows = {
        flow.name: (flow.roles[0], flow.roles[1])
        for flow in FLOWS.values()
        if set(flow.roles) <= set(connections)
    }
    return connections, flows


def write_demo_config(
    path: str, urls: Mapping[str, str], connections: Mapping[str, Mapping[str, dict[str, Any]]]
) -> None:
    """A ready config for tenant ``demo`` at ``path``: every flow wired to the sandboxes.
    ``connections`` is, per sandbox, its ``connection(url)``: settings per connector. Secrets go
    to ``path.secrets`` beside it, referred to as ${NAME}, never into the config itself. Both
    are written 0600. (``urls``, the sandboxes' addresses, are already in those settings.)"""
    from fjordsync.config import secret_settings
    from fjordsync.plugins import connectors, get_plugin_manager

    registered = connectors(get_plugin_manager())
    settings_of = {
        connector: settings
        for by_connector in connections.values()
        for connector, settings in by_connector.items()
        if connector in registered
    }
    roles, flows = wiring({name: registered[name].connector.capabilities for name in settings_of})
    name = os.path.basename(path)
    secrets: dict[str, str] = {}
    wired: dict[str, Any] = {}
    for role, connector in roles.items():
        secret = set(secret_settings(registered[connector].connector.settings))
        settings: dict[str, Any] = {}
        for key, value in settings_of[connector].items():
            if key in secret:
                reference = f"{TENANT}_{role}_{key}".upper()
                secrets[reference] = str(value)
                value = "${" + reference + "}"
            settings[key] = value
        wired[role] = {"plugin": connector, "settings": settings}
    document = {
        "secrets_file": f"{name}.secrets",
        "ledger": {"url": f"sqlite:///{name}.ledger.db"},
        "tenants": {
            TENANT: {
                "connections": wired,
                "flows": {
                    flow: {"source": source, "target": target, "schedule": dict(SCHEDULE)}
                    for flow, (source, target) in flows.items()
                },
            }
        },
    }
    # Both 0600: the secrets file is refused otherwise, and the config names where they are.
    _write_private(path, HEADER + tomli_w.dumps(document))
    _write_private(f"{path}.secrets", tomli_w.dumps(secrets))


def _write_private(path: str, text: str) -> None:
    """Write ``path`` afresh, 0600 whatever the umask and whatever mode an older file had."""
    if os.path.exists(path):
        os.chmod(path, 0o600)
    with open(logs.open_private(path, append=False), "w", encoding="utf-8") as handle:
        handle.write(text)
