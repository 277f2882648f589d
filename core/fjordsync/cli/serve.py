"""``fjordsync serve``: the flows on their schedules, in this process."""

from __future__ import annotations

from typing import Annotated

import typer

from fjordsync.cli.app import ConfigFileOption, app, container, err, fail, loaded_config, out
from fjordsync.errors import FjordsyncError

# Both schedulers' (this one's and ``fjordsync scheduler``'s): the same look, the same limit.
TickOption = Annotated[float, typer.Option(min=1, help="Seconds between looks at the schedules.")]


@app.command("serve")
def serve_command(
    config: ConfigFileOption,
    tick: TickOption = 30.0,
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then stop.")] = False,
) -> None:
    """Run the flows on their schedules, in this process, until stopped."""
    import asyncio

    from fjordsync.cli.render import cell
    from fjordsync.runtime.scheduler import serve

    built = container(config=config)
    try:
        loaded = loaded_config(built)
        if not once:
            err.print(cell(f"serving the schedules of {config} (Ctrl-C to stop)"), highlight=False)
        asyncio.run(
            serve(
                loaded,
                built.connectors(),
                built.ledger(),
                built.clock().now,
                tick_seconds=tick,
                once=once,
                report=lambda line: out.print(cell(line), highlight=False),
            )
        )
    except KeyboardInterrupt:
        return
    except FjordsyncError as exc:
        fail(exc, False)
