"""``fjordsync web`` (the browser view for clerks, ``fjordsync.web``) and ``fjordsync web-user
NAME`` (a password's hash for the secrets file's ``[web_users]`` table, without writing Python).

Both need the ``web`` extra; starlette, uvicorn and argon2 are imported in the commands, so the
CLI's other commands do not pay for them and a missing extra is one line saying what to install.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, NoReturn

import typer

from fjordsync.cli.app import ConfigFileOption, UsageError, app, err, fail
from fjordsync.errors import FjordsyncError

USER_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
MISSING_EXTRA = "fjordsync web needs its extra: pip install 'fjordsync[web]'"


def _missing(exc: ImportError) -> NoReturn:
    fail(UsageError(f"{MISSING_EXTRA} (missing: {exc.name or exc})"), False)


@app.command("web")
def web_command(
    config: ConfigFileOption,
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default: the config's [web] host, 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Port (default: the config's [web] port, 8765)."),
    ] = None,
) -> None:
    """Serve the web view (flows, runs, plans; dry run, save and apply a plan) until stopped."""
    try:
        import uvicorn

        from fjordsync.web.app import create_app
    except ImportError as exc:
        _missing(exc)
    from fjordsync.cli.render import cell

    try:
        application = create_app(config, host=host)
    except FjordsyncError as exc:
        fail(exc, False)
    web = application.state.web
    listen_host = host or web.config.web.host
    listen_port = web.config.web.port if port is None else port
    if not web.config.web_users:
        err.print(
            cell(
                "note: the secrets file has no [web_users]: nobody can log in "
                "(make a user's line with `fjordsync web-user NAME`)"
            ),
            highlight=False,
        )
    if web.config.web.secure_cookies and listen_host not in ("127.0.0.1", "localhost", "::1"):
        # Browsers keep a Secure cookie over plain http only from this machine's own address.
        err.print(
            cell(
                f"note: the login cookie is Secure: open it through HTTPS (a proxy in front of "
                f"{listen_host}:{listen_port}), or a browser drops it and nobody stays logged in"
            ),
            highlight=False,
        )
    server = uvicorn.Server(
        uvicorn.Config(
            application,
            host=listen_host,
            port=listen_port,
            # fjordsync's own logging (masked) instead of uvicorn's handlers.
            log_config=None,
            access_log=False,
            server_header=False,
            lifespan="off",
        )
    )
    err.print(
        cell(f"fjordsync web for {config} at http://{listen_host}:{listen_port} (Ctrl-C to stop)"),
        highlight=False,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        return


@app.command("web-user")
def web_user_command(
    name: Annotated[str, typer.Argument(help="The user's name, as they will type it to log in.")],
) -> None:
    """Ask for a password twice and print the NAME = "$argon2id$..." line for the secrets file's
    [web_users] table."""
    try:
        from fjordsync.web.auth import hash_password
    except ImportError as exc:
        _missing(exc)
    if not USER_NAME.fullmatch(name):
        fail(
            UsageError(
                f"web-user: {name!r} cannot be a user name "
                "(letters, digits and . _ @ - only, up to 64)"
            ),
            False,
        )
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    if len(password) < 12:
        fail(UsageError("web-user: a password needs 12 characters or more"), False)
    # Quoted, so a name with "." or "@" is one TOML key too.
    line = f'{json.dumps(name)} = "{hash_password(password)}"'
    err.print("Paste this line under [web_users] in the secrets file:", markup=False)
    print(line)
