"""``fjordsync serve``: the flows on their schedules, in this process, and with
``--metrics-port`` Prometheus metrics on ``/metrics`` (``fjordsync.metrics``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fjordsync.cli.app import (
    ConfigFileOption,
    UsageError,
    app,
    container,
    err,
    fail,
    loaded_config,
    out,
)
from fjordsync.errors import FjordsyncError

# Both schedulers' (this one's and ``fjordsync scheduler``'s): the same look, the same limit.
TickOption = Annotated[float, typer.Option(min=1, help="Seconds between looks at the schedules.")]
# serve's and the worker's: metrics are off unless a port is given, and local unless a host is.
MetricsPortOption = Annotated[
    int | None,
    typer.Option(
        "--metrics-port",
        min=1,
        max=65535,
        help="Serve Prometheus metrics on this port (/metrics). Off by default.",
    ),
]
MetricsHostOption = Annotated[
    str,
    typer.Option(
        "--metrics-host",
        help="The address the metrics listen on (0.0.0.0: every interface).",
    ),
]


def start_metrics(ledger: Any, port: int | None, host: str) -> Any:
    """The metrics server of ``--metrics-port`` (None when not asked for); a port that cannot
    be bound is a usage error naming it."""
    if port is None:
        return None
    from fjordsync.cli.render import cell
    from fjordsync.metrics import start_metrics_server

    try:
        server = start_metrics_server(ledger, port, host)
    except OSError as exc:
        raise UsageError(
            f"--metrics-port {port}: cannot listen on {host}:{port} ({exc.strerror or exc})"
        ) from None
    err.print(cell(f"metrics on http://{host}:{port}/metrics"), highlight=False)
    return server


@app.command("serve")
def serve_command(
    config: ConfigFileOption,
    tick: TickOption = 30.0,
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then stop.")] = False,
    metrics_port: MetricsPortOption = None,
    metrics_host: MetricsHostOption = "127.0.0.1",
) -> None:
    """Run the flows on their schedules, in this process, until stopped."""
    import asyncio

    from fjordsync.cli.render import cell
    from fjordsync.runtime.scheduler import serve

    built = container(config=config)
    try:
        loaded = loaded_config(built)
        start_metrics(built.ledger(), metrics_port, metrics_host)
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
