"""The web view's pages and actions (routes in ``fjordsync.web.app``).

Each read-only page asks ``may_read`` (a login, or ``[web] read_without_login``); each action
goes through ``checked_post`` (a login and the session's CSRF token). What a page shows of
records comes from the ledger (field names, labels, masked messages: no values) or from plans
read with ``show_personal=False``; a dry run's old -> new values go through the CLI's
``render.shown``, which masks personal fields.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fjordsync.errors import FjordsyncError
from fjordsync.web import auth
from fjordsync.web.app import (
    OUTCOMES,
    WebApp,
    _NotFound,
    _period,
    in_own_loop,
    new_plan_path,
    plan_path,
)

log = logging.getLogger(__name__)


def _web(request: Request) -> WebApp:
    web: WebApp = request.app.state.web
    return web


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _message(error: BaseException) -> str:
    from fjordsync.cli import render

    return render.message(error)


def _failed(web: WebApp, request: Request, what: str, error: FjordsyncError) -> Response:
    """An action fjordsync refused or could not do (a flow locked by another run, a changed
    plan): 409 and its one-line message."""
    return web.page(
        request, "action_failed.html", status_code=409, what=what, error=_message(error)
    )


# -- data the pages share ----------------------------------------------------------------------
def _statuses(web: WebApp) -> list[dict[str, Any]]:
    """Per tenant and flow: last run, next due run and why, the lock, open problems."""
    from fjordsync.runtime.status import flow_statuses

    return [status.as_dict() for status in flow_statuses(web.config, web.ledger, web.now())]


def _groups(run: Any) -> list[dict[str, Any]]:
    """A run's problems grouped by cause (``fjordsync.domain.problems.group_problems``)."""
    groups = getattr(run, "problems", None)
    if groups is None:
        from fjordsync.domain.problems import group_problems

        groups = group_problems(run.items)
    return [group.as_dict() for group in groups]


def _masked_changes(changes: Any) -> list[dict[str, str]]:
    from fjordsync.cli import render

    return [
        {
            "field": name,
            "old": render.shown(name, old, False),
            "new": render.shown(name, new, False),
        }
        for name, old, new in changes
    ]


def _saved_plans(web: WebApp) -> list[dict[str, Any]]:
    """The plans folder's plans, newest first, with what each says of itself."""
    if not web.plans.is_dir():
        return []
    found = []
    for path in sorted(web.plans.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            found.append({"name": path.name, "unreadable": True})
            continue
        found.append({"name": path.name, "document": document, "summary": _plan_summary(document)})
    return found


def _plan_summary(document: dict[str, Any]) -> dict[str, Any]:
    """What a plan list shows of a plan: whose, when, and its counts ("create 1, update 12")."""
    counts = document.get("summary") or {}
    return {
        "tenant": document.get("tenant"),
        "flow": document.get("flow"),
        "created_at": document.get("created_at"),
        "counts": {name: count for name, count in counts.items() if count},
        "line": ", ".join(
            f"{count:,} to {name}" if name in ("create", "update") else f"{count:,} {name}"
            for name, count in counts.items()
        ),
        "writes": len(document.get("actions") or []),
    }


# -- login ---------------------------------------------------------------------------------------
async def login(request: Request) -> Response:
    web = _web(request)
    next_path = request.query_params.get("next", "/")
    if request.method == "GET":
        return web.page(request, "login.html", next_path=_local(next_path), error=None)
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    next_path = _local(fields.get("next", "/"))
    if not auth.csrf_ok(request.session.get("csrf"), fields.get(auth.CSRF_FIELD)):
        return web.refused(request, 403, "The form was out of date or not from this site.")
    user = fields.get("user", "").strip()
    password = fields.get("password", "")
    address = _client(request)
    wait = web.limiter.retry_after(user, address)
    if wait:
        return web.page(
            request,
            "login.html",
            status_code=429,
            next_path=next_path,
            error=f"Too many failed logins: try again in {wait} seconds.",
        )
    # argon2 takes a while on purpose: off the event loop, so other pages keep answering.
    verified = await asyncio.to_thread(auth.verify_login, web.config.web_users, user, password)
    if not verified:
        web.limiter.failed(user, address)
        log.warning("fjordsync web: a failed login from %s", address)
        return web.page(
            request,
            "login.html",
            status_code=401,
            next_path=next_path,
            error="Wrong user name or password.",
        )
    web.limiter.succeeded(user)
    # A new session on login: a token an attacker planted before it is worth nothing after.
    request.session.clear()
    request.session["user"] = user
    request.session["csrf"] = auth.new_csrf_token()
    request.session["since"] = web.now().isoformat()
    log.info("fjordsync web: %s logged in from %s", user, address)
    return RedirectResponse(next_path, status_code=303)


def _local(path: str) -> str:
    """A ``next`` target on this site only (no ``//evil.example``)."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return "/"
    return path


async def logout(request: Request) -> Response:
    web = _web(request)
    form = await request.form()
    given = form.get(auth.CSRF_FIELD)
    if not auth.csrf_ok(request.session.get("csrf"), given if isinstance(given, str) else None):
        return web.refused(request, 403, "The form was out of date or not from this site.")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# -- read-only pages -------------------------------------------------------------------------------
async def overview(request: Request) -> Response:
    web = _web(request)
    if not web.may_read(request):
        return web.need_login(request)
    statuses = _statuses(web)
    return web.page(
        request,
        "overview.html",
        statuses=statuses,
        broken=web.config.broken_summary() if web.config.broken else [],
        runs=web.ledger.runs(limit=10),
    )


async def runs(request: Request) -> Response:
    web = _web(request)
    if not web.may_read(request):
        return web.need_login(request)
    tenant = request.query_params.get("tenant") or None
    flow = request.query_params.get("flow") or None
    return web.page(
        request,
        "runs.html",
        runs=web.ledger.runs(tenant=tenant, flow=flow, limit=100),
        tenant=tenant,
        flow=flow,
    )


async def run(request: Request) -> Response:
    web = _web(request)
    if not web.may_read(request):
        return web.need_login(request)
    record = web.ledger.run(request.path_params["run_id"])
    if record is None:
        raise _NotFound(f"no run {request.path_params['run_id']}")
    outcome = request.query_params.get("outcome") or None
    items = [i for i in record.items if outcome is None or i.outcome == outcome]
    shown_outcomes = [o for o in OUTCOMES if record.counts.get(o)] + (
        ["unchanged"] if record.counts.get("unchanged") else []
    )
    context: dict[str, Any] = {
        "run": record,
        "items": items[:500],
        "more": max(0, len(items) - 500),
        "outcome": outcome,
        "outcomes": shown_outcomes,
    }
    if request.headers.get("hx-request") == "true" and request.query_params.get("part"):
        return web.page(request, "_records.html", **context)
    return web.page(request, "run.html", groups=_groups(record), **context)


async def flow(request: Request) -> Response:
    web = _web(request)
    if not web.may_read(request):
        return web.need_login(request)
    tenant, name = web.tenant_flow(request.path_params["tenant"], request.path_params["flow"])
    status = next((s for s in _statuses(web) if s["tenant"] == tenant and s["flow"] == name), None)
    plans = [
        p
        for p in _saved_plans(web)
        if p.get("summary", {}).get("tenant") == tenant and p["summary"].get("flow") == name
    ]
    from fjordsync.flows.registry import FLOWS

    definition = FLOWS.get(name)
    return web.page(
        request,
        "flow.html",
        tenant=tenant,
        flow=name,
        takes_period=definition is not None and definition.takes_period,
        status=status,
        runs=web.ledger.runs(tenant=tenant, flow=name, limit=20),
        plans=plans[:10],
    )


async def check(request: Request) -> Response:
    """The preflight findings; the flow page loads them into itself with htmx."""
    from fjordsync.runtime.runner import check as preflight

    web = _web(request)
    if not web.may_read(request):
        return web.need_login(request)
    tenant, name = web.tenant_flow(request.path_params["tenant"], request.path_params["flow"])
    error = None
    findings: list[Any] = []
    try:
        findings = await in_own_loop(
            lambda: preflight(web.config, web.connectors, name, tenant=tenant, now=web.now)
        )
    except FjordsyncError as exc:
        error = _message(exc)
    template = "_check.html" if request.headers.get("hx-request") == "true" else "check.html"
    return web.page(request, template, tenant=tenant, flow=name, findings=findings, error=error)


async def plans(request: Request) -> Response:
    web = _web(request)
    if not web.may_read(request):
        return web.need_login(request)
    return web.page(request, "plans.html", plans=_saved_plans(web), folder=str(web.plans))


async def plan(request: Request) -> Response:
    from fjordsync.runtime.plans import read_plan

    web = _web(request)
    if not web.may_read(request):
        return web.need_login(request)
    path = plan_path(web, request.path_params["name"])
    error = None
    document: dict[str, Any] = {}
    try:
        document = read_plan(path).as_document(show_personal=False)
    except FjordsyncError as exc:
        error = _message(exc)
    return web.page(
        request,
        "plan.html",
        name=path.name,
        document=document,
        summary=_plan_summary(document),
        actions=document.get("actions", []),
        problems=document.get("problems", []),
        error=error,
    )


async def schedules(request: Request) -> Response:
    web = _web(request)
    if not web.may_read(request):
        return web.need_login(request)
    from fjordsync.cli.render import schedule_text

    rows = []
    statuses = {(s["tenant"], s["flow"]): s for s in _statuses(web)}
    for tenant, tenant_config in web.config.tenants.items():
        for name, flow_config in tenant_config.flows.items():
            rows.append(
                {
                    "tenant": tenant,
                    "flow": name,
                    "schedule": schedule_text(flow_config.schedule) or "none (manual runs only)",
                    "status": statuses.get((tenant, name), {}),
                }
            )
    return web.page(request, "schedules.html", rows=rows)


# -- actions ---------------------------------------------------------------------------------------
async def dry_run(request: Request) -> Response:
    from fjordsync.runtime.runner import run_flow

    web = _web(request)
    fields, refused = await web.checked_post(request)
    if refused:
        return refused
    tenant, name = web.tenant_flow(request.path_params["tenant"], request.path_params["flow"])
    try:
        period = _period(fields)
        result = await in_own_loop(
            lambda: run_flow(
                web.config,
                web.connectors,
                web.ledger,
                name,
                tenant=tenant,
                dry_run=True,
                trigger="web",
                period=period,
                now=web.now,
            )
        )
    except FjordsyncError as exc:
        return _failed(web, request, "dry run", exc)
    items = [
        {
            "item": item,
            "changes": _masked_changes(item.changes),
        }
        for item in result.items
        if item.outcome != "unchanged"
    ]
    log.info("fjordsync web: %s ran a dry run of %s for %s", web.user(request), name, tenant)
    return web.page(
        request,
        "dry_run.html",
        result=result,
        items=items[:500],
        more=max(0, len(items) - 500),
        unchanged=result.counts.get("unchanged", 0),
    )


async def save_plan(request: Request) -> Response:
    from fjordsync.runtime.plans import make_plan, write_plan

    web = _web(request)
    fields, refused = await web.checked_post(request)
    if refused:
        return refused
    tenant, name = web.tenant_flow(request.path_params["tenant"], request.path_params["flow"])
    try:
        period = _period(fields)
        _, saved = await in_own_loop(
            lambda: make_plan(
                web.config,
                web.connectors,
                web.ledger,
                name,
                tenant=tenant,
                period=period,
                now=web.now,
                trigger="web-plan",
            )
        )
        path = new_plan_path(web, tenant, name)
        write_plan(saved, path, show_personal=False)
        path.chmod(0o600)
    except FjordsyncError as exc:
        return _failed(web, request, "plan", exc)
    log.info("fjordsync web: %s saved plan %s", web.user(request), path.name)
    return RedirectResponse(f"/plans/{path.name}", status_code=303)


async def apply_plan(request: Request) -> Response:
    from fjordsync.runtime.plans import PlanChanged, apply_saved_plan, read_plan

    web = _web(request)
    _, refused = await web.checked_post(request)
    if refused:
        return refused
    path = plan_path(web, request.path_params["name"])
    try:
        saved = read_plan(path)
        result = await in_own_loop(
            lambda: apply_saved_plan(
                web.config, web.connectors, web.ledger, saved, now=web.now, trigger="web-apply"
            )
        )
    except PlanChanged as exc:
        return web.page(
            request,
            "action_failed.html",
            status_code=409,
            what="apply",
            error=_message(exc),
            records=exc.details[:50] or exc.records[:50],
        )
    except FjordsyncError as exc:
        return _failed(web, request, "apply", exc)
    log.info(
        "fjordsync web: %s applied plan %s (run %s)", web.user(request), path.name, result.run_id
    )
    return RedirectResponse(f"/runs/{result.run_id}", status_code=303)
