"""The ``fjordsync`` command.

Exit codes: 0 success; 1 partial (a run where some records were invalid, in conflict or failed);
2 failure, or a usage, config or plugin error. ``--json`` prints one JSON document on stdout.

No traceback reaches a user: an error fjordsync expects prints its one-line message; anything
else prints one line naming the error's class, the run and the log file, where the traceback
goes (``--log-file``, else ``fjordsync.logs.default_log_file()``). Text that comes from data
(names, keys, vendors' messages) is printed with control characters escaped and rich markup not
interpreted (``fjordsync.cli.render``).

One module per command (``run`` also holds ``check``); ``app`` holds what they share, ``render``
how things are shown, ``progress`` the progress bar, ``demo`` the config `sandbox up` writes.

Importing this package (what every command does first, ``--help`` included) imports no more
than typer and the command modules: what a command needs (the ledger, the plugins, the domain
and ``render`` with it) is imported in the command's function, so a command pays only for
itself.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from fjordsync import logs

# The command modules register themselves on ``app`` when imported.
from fjordsync.cli import (  # noqa: F401
    config_cmd,
    connections,
    distributed,
    init,
    plan,
    plugins,
    run,
    runs,
    sandbox,
    serve,
    state,
    status,
    web,
)
from fjordsync.cli.app import EXIT_ERROR, UsageError, app, fail, print_error, unexpected
from fjordsync.cli.demo import write_demo_config
from fjordsync.errors import FjordsyncError

__all__ = ["app", "main", "write_demo_config"]

LOG_OPTIONS = ("--log-level", "--log-file", "--log-format")


def _version_callback(value: bool) -> None:
    if value:
        from importlib import metadata

        print(f"fjordsync {metadata.version('fjordsync')}")
        raise typer.Exit()


def _log_level_option(value: str) -> str:
    if value.upper() not in logs.LEVELS:
        from fjordsync.cli.render import plain

        raise typer.BadParameter(f"{plain(value)!r} is not one of {', '.join(logs.LEVELS)}")
    return value.upper()


def _log_format_option(value: str) -> str:
    if value.lower() not in logs.FORMATS:
        from fjordsync.cli.render import plain

        raise typer.BadParameter(f"{plain(value)!r} is not one of {', '.join(logs.FORMATS)}")
    return value.lower()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            envvar=logs.LOG_LEVEL_ENV,
            callback=_log_level_option,
            metavar="[" + "|".join(logs.LEVELS) + "]",
            help="Log records from this level on (credentials and personal numbers are masked "
            "at every level).",
        ),
    ] = logs.DEFAULT_LEVEL,
    log_file: Annotated[
        str | None,
        typer.Option(
            "--log-file",
            envvar=logs.LOG_FILE_ENV,
            help="Log to this file (created 0600) instead of stderr. Tracebacks of unexpected "
            "errors go here, else to fjordsync.log in the user's state directory.",
        ),
    ] = None,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            envvar=logs.LOG_FORMAT_ENV,
            callback=_log_format_option,
            metavar="[" + "|".join(logs.FORMATS) + "]",
            help="text: a line a person reads; json: one JSON object a line (time, level, "
            "logger, message, run, tenant, flow), masked alike.",
        ),
    ] = logs.DEFAULT_FORMAT,
) -> None:
    """Keeps HR, project and time data in step between Nordic business systems.

    --log-level, --log-file and --log-format may also be given after the command."""
    try:
        logs.configure(log_level, log_file, log_format)
    except OSError as exc:
        reason = str(exc) if isinstance(exc, PermissionError) and exc.errno is None else None
        fail(UsageError(f"--log-file: {reason or exc.strerror}"), False)


def _hoist_log_options(args: list[str]) -> list[str]:
    """--log-level, --log-file and --log-format are the group's options, which click takes
    only before the command; users write them anywhere (``fjordsync run hours --log-level
    DEBUG``)."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        if arg in LOG_OPTIONS and index + 1 < len(args):
            front += args[index : index + 2]
            index += 2
            continue
        if arg.startswith(tuple(f"{option}=" for option in LOG_OPTIONS)):
            front.append(arg)
        else:
            rest.append(arg)
        index += 1
    return front + rest


def main() -> None:
    args = _hoist_log_options(sys.argv[1:])
    try:
        app(args=args, prog_name="fjordsync")
    except FjordsyncError as exc:  # anything a command did not handle itself
        print_error(exc)
        sys.exit(EXIT_ERROR)
    except typer.Exit as exc:  # raised outside click's own handling (by unexpected)
        sys.exit(exc.exit_code)
    except Exception as exc:
        try:
            unexpected(exc, None, "--json" in args)
        except typer.Exit as done:
            sys.exit(done.exit_code)
