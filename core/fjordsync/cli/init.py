"""``fjordsync init --connectors a,b,...``: write a commented config for the connectors chosen.

The file is written from the installed plugins, never from a template that could drift from
them: each connection lists every setting of its connector's settings model with its
description as a comment; required settings are filled with a ``${TENANT_CONNECTION_SETTING}``
reference (secrets always are, since the config refuses a secret written out; the others can be
replaced by their value), optional ones are commented out at their default. The flows those
connectors serve are wired as the demo wires them (``fjordsync.cli.demo.wiring``: each flow's
roles), their schedules commented out. With every variable it names set, the file passes
``fjordsync config check`` (tests/integration/test_init.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fjordsync.cli.app import UsageError, app, fail, out
from fjordsync.errors import FjordsyncError

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["config_text", "init"]

DEFAULT_TENANT = "acme"
DEFAULT_OUT = "fjordsync.toml"
SCHEDULE = 'schedule = { days = ["mon", "tue", "wed", "thu", "fri"], time = "06:30" }'


def _variable(*parts: str) -> str:
    """An environment variable's name: ACME_ERP_PASSWORD."""
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", part).strip("_").upper() for part in parts)


def _toml_value(value: Any) -> str:
    import tomli_w

    return tomli_w.dumps({"v": value}).partition("=")[2].strip()


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _toml_value(name)


def _comment(text: str) -> list[str]:
    return [f"# {line}".rstrip() for line in text.strip().splitlines()]


def _settings_lines(
    model: type[BaseModel], tenant: str, connection: str
) -> tuple[list[str], list[str]]:
    """The lines of a connection's settings table, and the environment variables they name."""
    from pydantic import BaseModel as Model

    from fjordsync.config import secret_settings

    secrets = set(secret_settings(model))
    lines: list[str] = []
    variables: list[str] = []
    for name, field in model.model_fields.items():
        if field.description:
            lines += _comment(field.description)
        if name in secrets or field.is_required():
            variable = _variable(tenant, connection, name)
            variables.append(variable)
            kind = "secret" if name in secrets else "required: replace with the value, or set"
            lines.append(f'{_key(name)} = "${{{variable}}}"  # {kind} {variable}'.rstrip())
        else:
            default = field.get_default(call_default_factory=True)
            if isinstance(default, Model):
                default = default.model_dump(mode="json")
            elif default is not None and not isinstance(
                default, (str, int, float, bool, list, dict)
            ):
                default = str(default)  # a URL
            if default is None:  # optional without a default: unset unless given
                lines.append(f'# {_key(name)} = ""  # unset by default')
            else:
                lines.append(f"# {_key(name)} = {_toml_value(default)}")
    return lines, variables


def config_text(
    choices: list[str], tenant: str, registered: dict[str, Any]
) -> tuple[str, list[str]]:
    """The config for ``choices`` (connector names, all in ``registered``) and the environment
    variables it refers to."""
    from fjordsync.cli.demo import wiring
    from fjordsync.flows.registry import FLOWS

    capabilities = {name: registered[name].connector.capabilities for name in choices}
    try:
        roles, flows = wiring(capabilities)
    except FjordsyncError as exc:  # two chosen connectors fit one role: the demo's words
        raise UsageError(
            str(exc)
            .replace("the demo's", "the")
            .replace("uninstall the sandboxes it does not need", "choose one of them")
        ) from None
    # A connector no role takes still gets its connection, under its own name.
    by_connector = {connector: role for role, connector in roles.items()}
    connections = {by_connector.get(name, name): name for name in choices}
    lines = [
        f"# fjordsync config for tenant {tenant!r}, written by `fjordsync init`.",
        "# Check it with: fjordsync config check --config THIS_FILE",
        "# Values written as ${NAME} come from the environment, else from the secrets file.",
        "",
        '# secrets_file = "fjordsync.secrets.toml"  # NAME = "value" lines, chmod 600',
        "",
        "[ledger]",
        "# Where fjordsync keeps what it has written (relative to this file; or postgresql://).",
        'url = "sqlite:///fjordsync.db"',
    ]
    variables: list[str] = []
    for connection, connector in connections.items():
        found = registered[connector]
        lines += [
            "",
            f"[tenants.{_key(tenant)}.connections.{_key(connection)}]",
            *_comment(found.connector.title),
            f"plugin = {_toml_value(connector)}",
        ]
        settings, named = _settings_lines(found.connector.settings, tenant, connection)
        variables += named
        if settings:
            lines += ["", f"[tenants.{_key(tenant)}.connections.{_key(connection)}.settings]"]
            lines += settings
    for flow, (source, target) in flows.items():
        lines += [
            "",
            f"[tenants.{_key(tenant)}.flows.{_key(flow)}]",
            *_comment(FLOWS[flow].description),
            f"source = {_toml_value(source)}",
            f"target = {_toml_value(target)}",
            "# scope = { departments = [], projects = [] }",
            f"# {SCHEDULE}",
        ]
    if not flows:
        lines += ["", "# These connectors serve no flow together: add the others it needs."]
    return "\n".join(lines) + "\n", variables


def _chosen(names: str, registered: dict[str, Any]) -> list[str]:
    from fjordsync.config import close_matches

    choices = [name.strip() for name in names.split(",") if name.strip()]
    if not choices:
        raise UsageError("--connectors: name at least one connector")
    for name in choices:
        if name not in registered:
            raise UsageError(
                f"--connectors: no installed plugin provides connector {name!r} "
                f"({' '.join(f'did you mean {m!r}?' for m in close_matches(name, registered)[:1])}"
                f"{' ' if close_matches(name, registered) else ''}"
                f"installed: {', '.join(sorted(registered))})"
            )
    return list(dict.fromkeys(choices))


@app.command("init")
def init(
    connectors: Annotated[
        str,
        typer.Option(
            "--connectors",
            help="The connectors to connect, comma-separated "
            "(e.g. smartdok,twentyfourseven,twentyfourseven-payroll,alexis).",
        ),
    ],
    tenant: Annotated[str, typer.Option(help="The tenant's name.")] = DEFAULT_TENANT,
    out_file: Annotated[str, typer.Option("--out", help="Where to write it.")] = DEFAULT_OUT,
    force: Annotated[bool, typer.Option(help="Overwrite the file if it exists.")] = False,
) -> None:
    """Write a commented config for the connectors chosen: every setting, the flows they serve,
    secrets as ${NAME} references, and say which environment variables to set."""
    from fjordsync.plugins import connectors as installed
    from fjordsync.plugins import get_plugin_manager

    try:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", tenant):
            raise UsageError(f"--tenant: {tenant!r} must be letters, digits, - or _")
        registered = dict(installed(get_plugin_manager()))
        text, variables = config_text(_chosen(connectors, registered), tenant, registered)
        path = Path(out_file)
        if path.exists() and not force:
            raise UsageError(f"{out_file} exists: give --force to overwrite it")
        with open(path, "w", encoding="utf-8") as handle:  # no secret in it: an ordinary file
            handle.write(text)
    except FjordsyncError as exc:
        fail(exc, False)
    except OSError as exc:
        fail(UsageError(f"--out: {out_file}: {exc.strerror}"), False)
    out.print(f"wrote {out_file}", highlight=False, markup=False, soft_wrap=True)
    if variables:
        out.print(
            "set these environment variables (or put them in a secrets file named by "
            "secrets_file):",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        for variable in variables:
            out.print(f"  {variable}", highlight=False, markup=False, soft_wrap=True)
    out.print(
        f"then check it: fjordsync config check --config {out_file}",
        highlight=False,
        markup=False,
    )
