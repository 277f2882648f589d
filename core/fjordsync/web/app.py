"""``fjordsync web``: the pages a payroll clerk checks pay on, and the three actions (a flow's
dry run, saving its plan, applying a saved plan), as one Starlette application.

``create_app(config_path)`` reads the config once, opens the ledger the config names (SQLite or
PostgreSQL, through ``fjordsync.container.AppContainer`` as the CLI does) and serves:

==============================  ==========================================================
``GET /``                       tenants and flows: last run, next due run, open problems
``GET /runs``                   the latest runs (``?tenant=&flow=``)
``GET /runs/{id}``              a run: its problems grouped by cause, its records
                                (``?outcome=invalid``; htmx swaps the table only)
``GET /flows/{tenant}/{flow}``  a flow: its status, its runs, the actions
``GET /flows/.../check``        the flow's preflight findings (reads both systems)
``GET /plans``, ``/plans/{n}``  saved plans; one plan's field-level old -> new
``GET /schedules``              every flow's schedule and next due run
``POST /flows/.../dry-run``     a dry run now: its plan, nothing written
``POST /flows/.../plan``        the plan saved to the plans folder for review
``POST /plans/{n}/apply``       the saved plan carried out, as ``fjordsync apply`` does
``GET|POST /login``, ``POST /logout``
==============================  ==========================================================

Security (``fjordsync.web.auth``): actions always need a login, read-only pages too unless
``[web] read_without_login``; every POST carries the session's CSRF token; Host headers other
than the address served are refused (a DNS-rebinding page cannot read it); every response says
``Cache-Control: no-store`` and a Content-Security-Policy that allows this host only. Personal
values (``fjordsync.domain.model.PERSONAL_FIELDS``) are shown as ``***``: plans are read with
``show_personal=False`` and dry runs' changes masked as the CLI masks them.

Saved plans are kept in a ``plans/`` folder beside a SQLite ledger, or, for PostgreSQL, in the
user's state directory (``<state dir>/fjordsync/plans``); files are 0600.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fjordsync import logs
from fjordsync.errors import FjordsyncError
from fjordsync.web import auth

__all__ = ["create_app", "plans_dir"]

HERE = Path(__file__).parent
SESSION_COOKIE = "fjordsync_web"
SESSION_MAX_AGE_S = 8 * 3600  # a working day; the cookie then needs a new login
OUTCOMES = ("invalid", "conflict", "failed", "deferred", "skipped", "planned", "written")
PLAN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.json$")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class _SecurityHeaders:
    """Headers every response carries: no caching of pages with pay data, this host only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cache-control", b"no-store"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _Unexpected:
    """An error no page expected: one line for the person (500), the traceback to the log
    file, as the CLI does; never a traceback on a page or on the server's terminal."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            if scope["type"] != "http":
                raise
            name = type(exc).__name__
            path = logs.write_trace(exc, f"fjordsync web: unexpected error ({name})")
            where = f"details in {path}" if path else "no log file could be written"
            log.error("fjordsync web: unexpected error (%s) on %s: %s", name, scope["path"], where)
            if started:
                return
            response = HTMLResponse(
                f"<!doctype html><title>Error</title><p>fjordsync web: unexpected error "
                f"({escape(name)}) — {escape(where)}</p>",
                status_code=500,
            )
            await response(scope, receive, send)


def plans_dir(ledger_url: str) -> Path:
    """Where the web view keeps saved plans: ``plans/`` beside a SQLite ledger file, else the
    user's state directory."""
    from fjordsync.ledger.engine import sqlite_path

    database = sqlite_path(ledger_url)
    if database:
        return Path(database).resolve().parent / "plans"
    from platformdirs import user_state_path

    return user_state_path("fjordsync") / "plans"


def _session_key_dir(ledger: Any) -> Path | None:
    """The folder of the ledger's fingerprint key file, where the session key goes too."""
    key_path = ledger.key_path()  # the ledger's own rule for where its key file is
    return Path(key_path).resolve().parent if key_path else None


def _allowed_hosts(host: str) -> list[str]:
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - told to listen everywhere: any name
        return ["*"]
    if host in ("127.0.0.1", "localhost", "::1"):
        return ["127.0.0.1", "localhost", "[::1]", "::1"]
    return [host]


class WebApp:
    """The state the pages share: config, connectors, ledger, templates, the login limiter."""

    def __init__(self, config_path: str, now: Callable[[], datetime] | None) -> None:
        from fjordsync.container import AppContainer

        built = AppContainer()
        built.settings.from_dict({"config_path": config_path, "ledger_url": None})
        config = built.config()
        if config is None:
            raise FjordsyncError("no config file given")
        self.config = config
        self.connectors = built.connectors()
        self.ledger = built.ledger()
        self.now = now or built.clock().now
        self.plans = plans_dir(config.ledger_url)
        self.limiter = auth.LoginLimiter()
        self.secret = auth.session_secret(config.web.session_secret, _session_key_dir(self.ledger))
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        self.env.filters["when"] = _when
        self.env.filters["seconds"] = _seconds

    # -- who is asking ------------------------------------------------------------------------
    def user(self, request: Request) -> str | None:
        user = request.session.get("user")
        return user if isinstance(user, str) and user in self.config.web_users else None

    def csrf_token(self, request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str) or not token:
            token = auth.new_csrf_token()
            request.session["csrf"] = token
        return token

    def may_read(self, request: Request) -> bool:
        return self.config.web.read_without_login or self.user(request) is not None

    def page(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> Response:
        html = self.env.get_template(template).render(
            request=request,
            user=self.user(request),
            csrf_token=self.csrf_token(request),
            csrf_field=auth.CSRF_FIELD,
            read_without_login=self.config.web.read_without_login,
            **context,
        )
        return HTMLResponse(html, status_code=status_code)

    def refused(self, request: Request, status: int, why: str) -> Response:
        return self.page(request, "refused.html", status_code=status, why=why)

    def need_login(self, request: Request) -> Response:
        """To the login page, which then sends the person back to this page."""
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(back, safe='/')}", status_code=303)

    async def checked_post(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        """The form of a POST, or the refusal: no login (403), no or a wrong CSRF token
        (403). Login comes first, so a stranger learns nothing about tokens."""
        form = await request.form()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        given = fields.get(auth.CSRF_FIELD) or request.headers.get(auth.CSRF_HEADER)
        if self.user(request) is None:
            return fields, self.refused(request, 403, "Log in first: actions need a login.")
        if not auth.csrf_ok(request.session.get("csrf"), given):
            return fields, self.refused(
                request, 403, "The form was out of date or not from this site (CSRF token)."
            )
        return fields, None

    def tenant_flow(self, tenant: str, flow: str) -> tuple[str, str]:
        if tenant not in self.config.tenants or flow not in self.config.tenants[tenant].flows:
            raise _NotFound(f"no flow {flow!r} for tenant {tenant!r} in the config")
        return tenant, flow


class _NotFound(Exception):
    pass


def _when(value: Any) -> str:
    """A time as a clerk reads it, to the minute, in the zone it carries: a next due run in
    its schedule's zone, a run's start in UTC (said)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        offset = value.utcoffset()
        return value.strftime("%Y-%m-%d %H:%M") + (" UTC" if not offset else "")
    return str(value)


def _seconds(value: Any) -> str:
    if value is None:
        return "—"
    seconds = float(value)
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _period(fields: dict[str, Any]) -> Any:
    """The form's from/to as a DateRange; None for the flow's default period."""
    from fjordsync.runtime.runner import period_of

    return period_of(
        (fields.get("from") or "").strip(),
        (fields.get("to") or "").strip(),
        label="from/to",
        needs_start="from/to: a period needs its first day (from)",
    )


async def in_own_loop(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``work()`` run to the end in a thread with its own event loop, as the CLI runs it: a
    dry run of 25 seconds (its ledger calls block) must not hold up every other page."""
    return await asyncio.to_thread(lambda: asyncio.run(work()))


def create_app(
    config_path: str, *, now: Callable[[], datetime] | None = None, host: str | None = None
) -> Starlette:
    """The web view of the config at ``config_path``; ``now`` is the clock (tests fix it);
    ``host``, the address served when not the config's ``[web] host`` (the Host header
    check follows it). Raises ``FjordsyncError`` (a config error, a session key others can
    read) before serving."""
    from fjordsync.web import pages

    web = WebApp(config_path, now)
    host = host or web.config.web.host
    routes = [
        Route("/", pages.overview),
        Route("/login", pages.login, methods=["GET", "POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/runs", pages.runs),
        Route("/runs/{run_id:int}", pages.run),
        Route("/flows/{tenant}/{flow}", pages.flow),
        Route("/flows/{tenant}/{flow}/check", pages.check),
        Route("/flows/{tenant}/{flow}/dry-run", pages.dry_run, methods=["POST"]),
        Route("/flows/{tenant}/{flow}/plan", pages.save_plan, methods=["POST"]),
        Route("/plans", pages.plans),
        Route("/plans/{name}", pages.plan),
        Route("/plans/{name}/apply", pages.apply_plan, methods=["POST"]),
        Route("/schedules", pages.schedules),
        Route("/favicon.ico", _no_icon),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(_SecurityHeaders),
        Middleware(_Unexpected),
        Middleware(TrustedHostMiddleware, allowed_hosts=_allowed_hosts(host)),
        Middleware(
            SessionMiddleware,
            secret_key=web.secret,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE_S,
            same_site="strict",
            https_only=web.config.web.secure_cookies,
        ),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return web.refused(request, 404, str(exc) if isinstance(exc, _NotFound) else "Not found.")

    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={_NotFound: not_found, 404: not_found},
    )
    app.state.web = web
    return app


async def _no_icon(request: Request) -> Response:
    return Response(status_code=204)


def plan_path(web: WebApp, name: str) -> Path:
    """The saved plan called ``name``; a name that is not a plain file name is not found."""
    if not PLAN_NAME.match(name):
        raise _NotFound(f"no saved plan {name!r}")
    path = web.plans / name
    if not path.is_file():
        raise _NotFound(f"no saved plan {name!r}")
    return path


def new_plan_path(web: WebApp, tenant: str, flow: str) -> Path:
    stamp = web.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", f"{tenant}-{flow}")
    web.plans.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = web.plans / f"{safe}-{stamp}.json"
    number = 1
    while path.exists():
        number += 1
        path = web.plans / f"{safe}-{stamp}-{number}.json"
    return path
