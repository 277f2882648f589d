"""What every command shares: the typer apps, the consoles, the common options, exit codes and
the two ways a command fails (an error fjordsync expects, and one it did not).

Every command that reads a config names it the same way: ``--config``/``-c``, else
``$FJORDSYNC_CONFIG`` (``ConfigOption``, ``ConfigFileOption``). Shell completion is on
(``fjordsync --install-completion``); flow and tenant names complete from the config's TOML,
read with ``tomllib`` alone, so completing costs no config model, plugin or ledger.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from fjordsync import logs
from fjordsync.errors import ConfigError, FjordsyncError

if TYPE_CHECKING:
    from fjordsync.config import Config
    from fjordsync.container import AppContainer

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_ERROR = 2

EPILOG = (
    "Exit codes: 0 success; 1 partial (some records invalid, in conflict or failed); "
    "2 failure, or a usage, config or plugin error."
)

app = typer.Typer(
    name="fjordsync",
    help="Keeps HR, project and time data in step between Nordic business systems.",
    epilog=EPILOG,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)
config_app = typer.Typer(help="Check config files.", epilog=EPILOG, no_args_is_help=True)
runs_app = typer.Typer(help="Run history.", epilog=EPILOG, no_args_is_help=True)
app.add_typer(config_app, name="config")
sandbox_app = typer.Typer(
    help="Vendor sandboxes: local servers speaking the vendors' APIs.",
    epilog=EPILOG,
    no_args_is_help=True,
)
app.add_typer(runs_app, name="runs")
app.add_typer(sandbox_app, name="sandbox")

out = Console()
err = Console(stderr=True, soft_wrap=True)  # an error line stays one line, for grep

CONFIG_ENV = "FJORDSYNC_CONFIG"  # also what the distributed runtime's workers read


def _config_names(ctx: typer.Context) -> dict[str, list[str]]:
    """Tenant -> its flow names, from the config the command line (or $FJORDSYNC_CONFIG)
    names; empty when there is none or it cannot be read (completion must never fail)."""
    import tomllib

    path = ctx.params.get("config") or os.environ.get(CONFIG_ENV)
    if not path:
        return {}
    try:
        with open(path, "rb") as file:
            document: dict[str, Any] = tomllib.load(file)
    except (OSError, ValueError):
        return {}
    tenants = document.get("tenants")
    if not isinstance(tenants, dict):
        return {}
    return {
        str(name): sorted(str(flow) for flow in (tenant.get("flows") or {}))
        for name, tenant in tenants.items()
        if isinstance(tenant, dict)
    }


def complete_flow(ctx: typer.Context, incomplete: str) -> list[str]:
    """The flow names of the config's tenant (of every tenant when none is given yet)."""
    names = _config_names(ctx)
    tenant = ctx.params.get("tenant")
    flows = names.get(tenant, []) if tenant else sorted({f for fs in names.values() for f in fs})
    return [flow for flow in flows if flow.startswith(incomplete)]


def complete_tenant(ctx: typer.Context, incomplete: str) -> list[str]:
    return [name for name in sorted(_config_names(ctx)) if name.startswith(incomplete)]


JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
ConfigOption = Annotated[
    str | None,
    typer.Option("--config", "-c", envvar=CONFIG_ENV, help="Config file (for its ledger URL)."),
]
ConfigFileOption = Annotated[
    str, typer.Option("--config", "-c", envvar=CONFIG_ENV, help="The config file.")
]
TenantOption = Annotated[
    str | None,
    typer.Option(help="The tenant (if the config has several).", autocompletion=complete_tenant),
]
FlowArgument = Annotated[
    str,
    typer.Argument(
        help="The flow (projects, employees, hours, payroll-employees, absences).",
        autocompletion=complete_flow,
    ),
]
LedgerOption = Annotated[
    str | None,
    typer.Option(
        "--ledger",
        help="Ledger database URL (default: the config's, "
        "else $FJORDSYNC_LEDGER_URL, else sqlite:///fjordsync.db).",
    ),
]


class UsageError(FjordsyncError):
    """A command-line option is wrong (exit 2)."""


def print_json(document: object, indent: int | None = 2) -> None:
    """The one JSON document of ``--json``, on stdout."""
    print(json.dumps(document, indent=indent))


def print_error(error: BaseException) -> None:
    from fjordsync.cli import render

    err.print(f"[bold red]error:[/] {escape(render.message(error))}", highlight=False)


def fail(error: Exception, as_json: bool) -> NoReturn:
    if as_json:
        print_json({"error": type(error).__name__, "message": logs.redact(str(error))}, None)
    else:
        print_error(error)
    raise typer.Exit(EXIT_ERROR)


def unexpected(error: BaseException, run_id: int | None, as_json: bool) -> NoReturn:
    """One line for the user, the traceback to the log file; exit 2."""
    name = type(error).__name__
    in_run = f" in run {run_id}" if run_id is not None else ""
    path = logs.write_trace(error, f"unexpected error ({name}){in_run}")
    where = f"details in {path}" if path else "no log file could be written"
    line = f"fjordsync: unexpected error ({name}){in_run} — {where}"
    if as_json:
        print_json(
            {
                "error": name,
                "message": line,
                "run_id": run_id,
                "log_file": str(path) if path else None,
            },
            None,
        )
    else:
        from fjordsync.cli import render

        err.print(render.cell(line), highlight=False)
    raise typer.Exit(EXIT_ERROR)


def container(config: str | None = None, ledger: str | None = None) -> AppContainer:
    # Imported here so that --help and --version do not wait for SQLAlchemy and Alembic.
    from fjordsync.container import AppContainer

    built = AppContainer()
    built.settings.from_dict({"config_path": config, "ledger_url": ledger})
    return built


def loaded_config(built: AppContainer) -> Config:
    """The config of a command that takes a config file; an empty path names none."""
    config = built.config()
    if config is None:
        raise ConfigError("no config file given")
    return config
