"""``fjordsync sandbox serve|generate|up``: the vendors' APIs on 127.0.0.1, for tests and the
demo."""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Annotated, Any

import typer

from fjordsync.cli.app import err, fail, sandbox_app
from fjordsync.cli.demo import write_demo_config
from fjordsync.errors import FjordsyncError

NameArgument = Annotated[
    str, typer.Argument(help="The sandbox: alexis, twentyfourseven, smartdok.")
]


def _sandbox_specs() -> dict[str, Any]:
    """Every registered sandbox, by name."""
    from fjordsync.plugins import get_plugin_manager, sandboxes

    try:
        return sandboxes(get_plugin_manager())
    except FjordsyncError as exc:
        fail(exc, False)


def _sandbox_spec(name: str) -> Any:
    found = _sandbox_specs()
    if name not in found:
        fail(
            FjordsyncError(f"no sandbox {name!r} (installed: {', '.join(found) or 'none'})"), False
        )
    return found[name]


def _fault_spec(faults: str | None) -> Any:
    from fjordsync.testing.sandbox import FaultSpec

    try:
        return FaultSpec.parse(faults)
    except ValueError as exc:
        fail(FjordsyncError(f"--faults: {exc}"), False)


def _wait_until_interrupted() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()


@sandbox_app.command("serve")
def sandbox_serve(
    name: NameArgument,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).")] = 0,
    seed: Annotated[
        str | None, typer.Option(help="State to start from: a JSON file in the API's shape.")
    ] = None,
    faults: Annotated[
        str | None, typer.Option(help="Faults, e.g. latency=20,jitter=5,5xx=0.2,429=0.1,seed=7.")
    ] = None,
    employees: Annotated[
        int, typer.Option(help="Without --seed: generate a company of this many employees.")
    ] = 60,
) -> None:
    """Serve a vendor sandbox on 127.0.0.1 until interrupted."""
    from fjordsync.cli.render import cell

    spec = _sandbox_spec(name)
    fault_spec = _fault_spec(faults)
    if seed:
        try:
            with open(seed, encoding="utf-8") as handle:
                state = json.load(handle)
        except (OSError, ValueError) as exc:
            fail(FjordsyncError(f"--seed {seed}: {exc}"), False)
    else:
        state = spec.generate(employees=employees)
    try:
        server = spec.server(state, fault_spec)
    except ValueError as exc:
        fail(FjordsyncError(f"--seed {seed}: {exc}"), False)
    server.start(port)
    err.print(cell(f"{spec.title} sandbox at {server.url} (Ctrl-C to stop)"), highlight=False)
    print(
        json.dumps(
            {"sandbox": name, "url": server.url, "connections": spec.connection(server.url)}
        ),
        flush=True,
    )
    try:
        _wait_until_interrupted()
    finally:
        server.stop()


@sandbox_app.command("up")
def sandbox_up(
    config_out: Annotated[str, typer.Option("--config-out", help="Write the demo config here.")],
    seed_dir: Annotated[
        str | None,
        typer.Option(help="Seed each sandbox from DIR/<name>.json (else generated data)."),
    ] = None,
    faults: Annotated[str | None, typer.Option(help="Faults for every sandbox.")] = None,
    urls_out: Annotated[str | None, typer.Option(help="Write the sandboxes' URLs here.")] = None,
    employees: Annotated[int, typer.Option(help="Employees in the generated company.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed of the generated company.")] = 1,
) -> None:
    """Start the installed sandboxes on free 127.0.0.1 ports and write a ready config for them."""
    import os

    from fjordsync.cli.render import cell

    fault_spec = _fault_spec(faults)
    servers = {}
    try:
        for name, spec in _sandbox_specs().items():
            seed_file = os.path.join(seed_dir, f"{name}.json") if seed_dir else None
            if seed_file and os.path.exists(seed_file):
                with open(seed_file, encoding="utf-8") as handle:
                    state = json.load(handle)
            else:
                state = spec.generate(employees=employees, seed=seed, **spec.demo)
            servers[name] = (spec, spec.server(state, fault_spec).start())
        urls = {name: server.url for name, (_, server) in servers.items()}
        connections = {
            name: spec.connection(server.url) for name, (spec, server) in servers.items()
        }
        write_demo_config(config_out, urls, connections)
        if urls_out:
            with open(urls_out, "w", encoding="utf-8") as handle:
                json.dump(urls, handle)
        err.print(
            cell(
                f"sandboxes up: {', '.join(f'{n} {u}' for n, u in urls.items())}; config in "
                f"{config_out} (Ctrl-C to stop)"
            ),
            highlight=False,
        )
        _wait_until_interrupted()
    finally:
        for _, server in servers.values():
            server.stop()


@sandbox_app.command("generate")
def sandbox_generate(
    name: NameArgument,
    employees: Annotated[int, typer.Option(min=1, help="Employees in the company.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same data.")] = 1,
    out: Annotated[str | None, typer.Option(help="Write here instead of stdout.")] = None,
) -> None:
    """Generate realistic sandbox state (JSON, the shape `sandbox serve --seed` loads)."""
    state = _sandbox_spec(name).generate(employees=employees, seed=seed)
    text = json.dumps(state, ensure_ascii=False, indent=1)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)
