"""``fjordsync plugins``: the installed connectors and the flows each can serve."""

from __future__ import annotations

from typing import Annotated

import typer

from fjordsync.cli.app import JsonOption, app, container, fail, out, print_json
from fjordsync.errors import FjordsyncError


@app.command("plugins")
def plugins_command(
    as_json: JsonOption = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also the connectors made for tests and demos.")
    ] = False,
) -> None:
    """List the installed connectors: the flows each can serve and on which side."""
    try:
        registered = container().connectors()
    except FjordsyncError as exc:
        fail(exc, as_json)
    rows = [item.as_dict() for item in registered.values()]
    rows = [row for row in rows if show_all or not row["testing"]]
    if as_json:
        print_json({"connectors": rows})
        return
    from fjordsync.cli import render

    render.print_connectors(out, rows)
