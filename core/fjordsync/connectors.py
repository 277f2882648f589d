"""What a connector plugin registers: its name, settings model and adapter.

A connector's capabilities are the ports its adapter class implements, read off the class
itself, so ``fjordsync plugins`` can never claim more than the code does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from fjordsync import ports

__all__ = ["CONNECTOR_NAME", "AdapterClass", "Connector", "SandboxSpec", "capabilities_of"]

CONNECTOR_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def _protocol_methods(protocol: type) -> frozenset[str]:
    return frozenset(
        name
        for name, value in vars(protocol).items()
        if not name.startswith("_") and callable(value)
    )


def capabilities_of(adapter: type | None) -> tuple[str, ...]:
    """Names of the ports (``fjordsync.ports.PORTS``) whose every method ``adapter`` defines."""
    if adapter is None:
        return ()
    return tuple(
        name
        for name, protocol in ports.PORTS.items()
        if all(callable(getattr(adapter, method, None)) for method in _protocol_methods(protocol))
    )


class AdapterClass(Protocol):
    """A class implementing some of the ports, built for one connection from its settings."""

    @classmethod
    def from_settings(cls, settings: Any) -> Any: ...


@dataclass(frozen=True)
class Connector:
    """A connector as a plugin registers it.

    ``settings`` validates the connection's settings from the config file (mark secrets with
    ``pydantic.SecretStr``: they must then come from the environment or a secrets file).
    ``adapter`` is the class implementing some of the ports, built for a connection with
    ``adapter.from_settings(settings)``; ``None`` while a connector is registered ahead of its
    adapter (it then has no capabilities). ``wording`` describes the system to the core (its
    name, code fields, where they are edited, its limits: ``fjordsync.ports.Wording``), so
    messages name it; without one, ``system`` (else the name) is all it says. ``testing``
    marks a connector made for tests, demos and rehearsals rather than a real system:
    `fjordsync plugins` lists it only with ``--all``.
    """

    name: str
    title: str
    settings: type[BaseModel]
    adapter: type[AdapterClass] | None = None
    system: str = ""
    testing: bool = False
    wording: ports.Wording | None = None
    capabilities: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not CONNECTOR_NAME.match(self.name):
            raise ValueError(
                f"connector name {self.name!r} must be lower-case letters, digits, - or _"
            )
        object.__setattr__(self, "capabilities", capabilities_of(self.adapter))
        if self.wording is None:
            object.__setattr__(self, "wording", ports.Wording(self.system or self.name))

    def build(self, settings: BaseModel) -> Any:
        """An adapter for one connection."""
        if self.adapter is None:
            raise NotImplementedError(f"connector {self.name!r} has no adapter yet")
        return self.adapter.from_settings(settings)


@dataclass(frozen=True)
class SandboxSpec:
    """A vendor sandbox as a plugin registers it.

    ``server(state, faults)`` builds a ``fjordsync.testing.sandbox.Sandbox``;
    ``generate(employees=N, seed=S)`` returns realistic state for a company of N employees, in
    the shape the server loads; ``connection(url)`` gives, per connector the sandbox serves,
    the connection settings (as in a config file) that point it at a running sandbox.
    ``demo`` holds the options of ``generate`` for the state `fjordsync sandbox up` starts it
    with (say, the id misalignments the preflight review is there to find).
    """

    name: str
    title: str
    server: Callable[..., Any]
    generate: Callable[..., dict[str, Any]]
    connection: Callable[[str], dict[str, Any]]
    demo: Mapping[str, Any] = field(default_factory=dict)
