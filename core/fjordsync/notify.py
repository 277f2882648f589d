"""Telling people about a run: a webhook (a JSON POST) and e-mail (SMTP), on the events a tenant's
``[notifications]`` names: ``failure`` (the run failed or was interrupted) and ``new_problems``
(the run met problems the ledger did not know yet: known ones are not told again).

A notification leaves the machine, so it carries nothing personal: counts, the run's masked
message, and the new problems grouped by cause (``domain.problems.group_problems``) with sample
record *keys*, never the labels a clerk sees on the terminal (those carry names). Every text is
masked once more (``logs.redact``) before it goes.

Telling never fails the run: a webhook that does not answer (tried three times, on transport
errors and 5xx) or an SMTP server that refuses is logged (masked, naming the host only, since a
webhook's path or query may be its secret) and becomes a note on the run's result.
"""

from __future__ import annotations

import dataclasses
import logging
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from fjordsync.config import EmailConfig, NotificationsConfig, WebhookConfig
from fjordsync.logs import redact, register_secrets

__all__ = [
    "TIMEOUT_S",
    "WEBHOOK_ATTEMPTS",
    "RunNotice",
    "email_message",
    "notice_of",
    "reasons_to_tell",
    "send_email",
    "send_webhook",
    "tell",
    "webhook_document",
]

log = logging.getLogger("fjordsync.notify")

TIMEOUT_S = 10.0  # per request or SMTP conversation step: a dead receiver must not hold a run
WEBHOOK_ATTEMPTS = 3  # the first included
FAILED_STATUSES = frozenset({"failed", "interrupted"})


@dataclass(frozen=True, slots=True)
class RunNotice:
    """What a notification says about one run (nothing personal)."""

    tenant: str
    flow: str
    run_id: int
    status: str
    counts: Mapping[str, int]
    new_problems: int | None
    known_problems: int | None
    started_at: datetime | None
    finished_at: datetime | None
    message: str | None = None
    # The new problems grouped by cause: kind, outcome, message, count, sample record keys.
    problems: tuple[dict[str, Any], ...] = field(default=())


class _Unanswered(Exception):
    """A webhook answered 5xx: worth another try."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def notice_of(
    *,
    tenant: str,
    flow: str,
    run_id: int,
    status: str,
    counts: Mapping[str, int],
    new_problems: int | None = None,
    known_problems: int | None = None,
    new_items: Sequence[Any] = (),
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    message: str | None = None,
) -> RunNotice:
    """A run as a notification tells it. ``new_items``: the run's items whose problems are new;
    grouped by cause with their keys as samples (their labels are left out: they carry
    names)."""
    # Imported here: this module is imported by the runner, which must not pay for grouping.
    from fjordsync.domain.problems import group_problems

    keyed = [_without_label(item) for item in new_items]
    groups = tuple(
        {
            "kind": group.kind,
            "outcome": group.outcome,
            "message": redact(group.message),
            "count": group.count,
            "records": [redact(record) for record in group.records],
            "field": group.field,
            "codes": list(group.codes),
        }
        for group in group_problems(keyed)
    )
    return RunNotice(
        tenant=tenant,
        flow=flow,
        run_id=run_id,
        status=status,
        counts=dict(counts),
        new_problems=new_problems,
        known_problems=known_problems,
        started_at=started_at,
        finished_at=finished_at,
        message=redact(message) if message else None,
        problems=groups,
    )


def _without_label(item: Any) -> Any:
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        return dataclasses.replace(item, label="")
    return item


def reasons_to_tell(config: NotificationsConfig | None, notice: RunNotice) -> list[str]:
    """The events of ``config.on`` this run is: ``failure``, ``new_problems``; none: no one is
    told."""
    if config is None or not (config.webhooks or config.email):
        return []
    reasons = []
    if "failure" in config.on and notice.status in FAILED_STATUSES:
        reasons.append("failure")
    if "new_problems" in config.on and (notice.new_problems or 0) > 0:
        reasons.append("new_problems")
    return reasons


def webhook_document(notice: RunNotice, reasons: Sequence[str]) -> dict[str, Any]:
    """The JSON a webhook receives."""
    return {
        "tenant": notice.tenant,
        "flow": notice.flow,
        "run_id": notice.run_id,
        "status": notice.status,
        "reasons": list(reasons),
        "counts": dict(notice.counts),
        "new_problems": notice.new_problems,
        "known_problems": notice.known_problems,
        "problems": list(notice.problems),
        "message": notice.message,
        "started_at": notice.started_at.isoformat() if notice.started_at else None,
        "finished_at": notice.finished_at.isoformat() if notice.finished_at else None,
    }


def _utc_text(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "-"


def email_message(email: EmailConfig, notice: RunNotice, reasons: Sequence[str]) -> EmailMessage:
    """The plain-text e-mail saying what the webhook's JSON says."""
    what = []
    if "failure" in reasons:
        what.append(notice.status)
    if "new_problems" in reasons:
        what.append(_plural(notice.new_problems or 0, "new problem"))
    lines = [
        f"fjordsync run {notice.run_id} of {notice.flow} for {notice.tenant}: {notice.status}",
        f"Started {_utc_text(notice.started_at)}, finished {_utc_text(notice.finished_at)}.",
        "Counts: " + (", ".join(f"{k} {v}" for k, v in notice.counts.items() if v) or "none"),
    ]
    if notice.new_problems is not None:
        lines.append(
            f"Problems: {notice.new_problems} new, {notice.known_problems or 0} known before."
        )
    if notice.message:
        lines.append(f"Message: {notice.message}")
    if notice.problems:
        lines += ["", "New problems, by cause:"]
        for group in notice.problems:
            lines.append(
                f"- {group['count']} {group['outcome']} ({group['kind']}): {group['message']}"
            )
            lines.append(f"  records: {', '.join(group['records'])}")
    lines += ["", f"Details: fjordsync runs show {notice.run_id}"]
    message = EmailMessage()
    message["Subject"] = (
        f"fjordsync: {notice.flow} for {notice.tenant}: {', '.join(what) or notice.status}"
    )
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message.set_content("\n".join(lines) + "\n")
    return message


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _host_of(url: str) -> str:
    """Only the host of a webhook: its path or query may be its secret (a token)."""
    return urlsplit(url).hostname or "an unreadable URL"


def send_webhook(
    webhook: WebhookConfig,
    document: Mapping[str, Any],
    *,
    attempts: int = WEBHOOK_ATTEMPTS,
    timeout: float = TIMEOUT_S,
) -> None:
    """POST ``document`` as JSON; tried again on transport errors and 5xx, ``attempts`` in all.
    Raises ``httpx.HTTPError`` or ``_Unanswered`` when it did not get through."""
    # A webhook's URL is its credential (a token in its path or query) and so are its headers:
    # masked in every log record from here on, httpx's request lines included.
    register_secrets([webhook.url, str(httpx.URL(webhook.url)), *webhook.headers.values()])
    with httpx.Client(timeout=timeout, headers=dict(webhook.headers)) as client:
        for attempt in Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.25, max=2.0),
            retry=retry_if_exception_type((httpx.TransportError, _Unanswered)),
            reraise=True,
        ):
            with attempt:
                answer = client.post(webhook.url, json=dict(document))
                if answer.status_code >= 500:
                    raise _Unanswered(answer.status_code)
                answer.raise_for_status()  # a 4xx: asking again would not change it


def send_email(email: EmailConfig, message: EmailMessage, *, timeout: float = TIMEOUT_S) -> None:
    """Send ``message`` by ``email``'s SMTP server (SSL, or STARTTLS, and a login when set)."""
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if email.ssl:
        server = smtplib.SMTP_SSL(email.host, email.port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(email.host, email.port, timeout=timeout)
    with server:
        if email.starttls and not email.ssl:
            server.starttls(context=context)
        if email.username:
            server.login(email.username, email.password or "")
        server.send_message(message)


def _why(error: BaseException) -> str:
    if isinstance(error, _Unanswered):
        return f"HTTP {error.status} after {WEBHOOK_ATTEMPTS} tries"
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTP {error.response.status_code}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"SMTP {error.smtp_code}"
    return type(error).__name__


def tell(
    config: NotificationsConfig | None, notice: RunNotice, *, attempts: int = WEBHOOK_ATTEMPTS
) -> list[str]:
    """Tell each webhook and the e-mail recipients about the run, if it is one of the events
    ``config.on`` names; returns a note for each that could not be told (never raises)."""
    reasons = reasons_to_tell(config, notice)
    if config is None or not reasons:
        return []
    notes: list[str] = []
    document = webhook_document(notice, reasons)
    for webhook in config.webhooks:
        try:
            send_webhook(webhook, document, attempts=attempts)
        except Exception as error:  # never the run's failure: a note and a log record
            note = f"the webhook at {_host_of(webhook.url)} was not told: {_why(error)}"
            log.warning("run %s: %s", notice.run_id, redact(note))
            notes.append(redact(note))
    if config.email is not None:
        try:
            send_email(config.email, email_message(config.email, notice, reasons))
        except Exception as error:
            note = f"no e-mail went out by {config.email.host}: {_why(error)}"
            log.warning("run %s: %s", notice.run_id, redact(note))
            notes.append(redact(note))
    return notes
