"""``fjordsync config check [FILE] [--config FILE]``: validate a config file (the positional
file is kept for older scripts; ``--config`` is how every other command names it)."""

from __future__ import annotations

from typing import Annotated

import typer

from fjordsync import logs
from fjordsync.cli.app import (
    CONFIG_ENV,
    EXIT_ERROR,
    JsonOption,
    UsageError,
    config_app,
    container,
    err,
    fail,
    loaded_config,
    out,
    print_json,
)
from fjordsync.errors import ConfigError, FjordsyncError


@config_app.command("check")
def config_check(
    file_argument: Annotated[
        str | None, typer.Argument(metavar="[FILE]", help="The config file to check.")
    ] = None,
    config_file: Annotated[
        str | None,
        typer.Option("--config", "-c", envvar=CONFIG_ENV, help="The config file to check."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Validate a config file: structure, plugins, settings, secrets and flow wiring. Every
    problem at once, each as FILE:LINE: key path: what is wrong (with a "did you mean")."""
    file = file_argument or config_file
    if not file:
        fail(UsageError("give the config file: fjordsync config check --config FILE"), as_json)
    from fjordsync.cli import render

    try:
        config = loaded_config(container(config=file))
        # A broken tenant does not stop the others' runs, but a file that has one is not valid.
        broken = config.broken_error()
        if broken is not None:
            raise broken
    except ConfigError as exc:
        problems = getattr(exc, "problems", [(exc.path or "", str(exc))])
        if as_json:
            lines = getattr(exc, "lines", None)
            print_json(render.config_problems_document(file, problems, lines))
        else:
            err.print(f"[bold red]{render.markup(file)}: invalid[/]", highlight=False)
            for line in logs.redact(str(exc)).splitlines():  # one problem a line
                err.print(render.cell(line), highlight=False)
        raise typer.Exit(EXIT_ERROR) from None
    except FjordsyncError as exc:
        fail(exc, as_json)
    summary = render.config_document(file, config)
    if as_json:
        print_json(summary)
        return
    render.print_config(out, summary)
    for warning in config.warnings:
        err.print(f"[yellow]warning:[/] {render.markup(warning)}", highlight=False)
