"""What a connector plugin registers: its name, settings model and adapter.

A connector's capabilities are the ports its adapter class implements, read off the class
itself, so ``fjordsync plugins`` can never claim more than the code does. A plugin may name its
adapter as ``"module:Class"`` and declare the capabilities instead: every command then loads
the plugin without importing the adapter (and the HTTP and SOAP libraries it brings), and a run
imports it only for a connection it uses, checking there that the class implements what the
declaration says.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from fjordsync import ports
from fjordsync.errors import PluginError

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = [
    "CONNECTOR_NAME",
    "AdapterClass",
    "Connector",
    "SandboxSpec",
    "capabilities_of",
    "resolve_reference",
]

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


def resolve_reference(reference: str) -> Any:
    """The object a ``"package.module:Name"`` reference names, imported now."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{reference!r} is not a 'module:Name' reference")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def _in_port_order(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    unknown = sorted(set(names) - set(ports.PORTS))
    if unknown:
        raise ValueError(
            f"unknown port{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"(ports: {', '.join(ports.PORTS)})"
        )
    return tuple(name for name in ports.PORTS if name in names)


@dataclass(frozen=True)
class Connector:
    """A connector as a plugin registers it.

    ``settings`` validates the connection's settings from the config file (mark secrets with
    ``pydantic.SecretStr``: they must then come from the environment or a secrets file).
    ``adapter`` is the class implementing some of the ports, built for a connection with
    ``adapter.from_settings(settings)``, or a ``"module:Class"`` reference to it, imported the
    first time a connection is built (``adapter_class()``); ``None`` while a connector is
    registered ahead of its adapter (it then has no capabilities). ``capabilities`` are the
    names of the ports the adapter implements (``fjordsync.ports.PORTS``): read off the class
    when left out; declared with a reference, so that listing and checking connectors imports
    no adapter (the class must then implement exactly those: ``adapter_class()`` says so
    otherwise, a ``PluginError``). ``wording`` describes the system to the core (its name, code
    fields, where they are edited, its limits: ``fjordsync.ports.Wording``), so messages name
    it; without one, ``system`` (else the name) is all it says. ``testing`` marks a connector
    made for tests, demos and rehearsals rather than a real system: `fjordsync plugins` lists
    it only with ``--all``.
    """

    name: str
    title: str
    settings: type[BaseModel]
    adapter: type[AdapterClass] | str | None = None
    system: str = ""
    testing: bool = False
    wording: ports.Wording | None = None
    capabilities: tuple[str, ...] = ()
    _resolved: list[type[AdapterClass]] = field(
        default_factory=list, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not CONNECTOR_NAME.match(self.name):
            raise ValueError(
                f"connector name {self.name!r} must be lower-case letters, digits, - or _"
            )
        declared = _in_port_order(tuple(self.capabilities))
        if isinstance(self.adapter, str):
            if not declared:
                # Nothing declared: the capabilities can only come from the class itself.
                declared = capabilities_of(self.adapter_class())
        else:
            found = capabilities_of(self.adapter)
            if declared and declared != found:
                raise ValueError(self._mismatch(declared, found))
            declared = found
        object.__setattr__(self, "capabilities", declared)
        if self.wording is None:
            object.__setattr__(self, "wording", ports.Wording(self.system or self.name))

    def _mismatch(self, declared: tuple[str, ...], found: tuple[str, ...]) -> str:
        return (
            f"connector {self.name!r} declares the capabilities {', '.join(declared) or 'none'} "
            f"but its adapter implements {', '.join(found) or 'none'}"
        )

    def adapter_class(self) -> type[AdapterClass] | None:
        """The adapter class, imported on the first call when given as a reference."""
        if not isinstance(self.adapter, str):
            return self.adapter
        if not self._resolved:
            try:
                adapter = resolve_reference(self.adapter)
            except Exception as exc:
                raise PluginError(
                    f"connector {self.name!r}: its adapter {self.adapter!r} failed to load: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if self.capabilities and capabilities_of(adapter) != self.capabilities:
                raise PluginError(self._mismatch(self.capabilities, capabilities_of(adapter)))
            self._resolved.append(adapter)
        return self._resolved[0]

    def build(self, settings: BaseModel) -> Any:
        """An adapter for one connection."""
        adapter = self.adapter_class()
        if adapter is None:
            raise NotImplementedError(f"connector {self.name!r} has no adapter yet")
        return adapter.from_settings(settings)


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
