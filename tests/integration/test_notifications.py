"""Remembered problems and notifications, through ``fjordsync run`` against the 24SevenOffice and
SmartDok sandboxes: a local HTTP receiver and a local SMTP server (aiosmtpd) get exactly what a
run should tell, a second run with the same problems tells nothing, a webhook that fails leaves
the run as it was with a note, and ``--ignore-known-problems`` turns a run whose problems were all
known before into exit 0. The ledger's memory itself (new, known, gone) is tested on a ledger."""

from __future__ import annotations

import json
import socket
import textwrap
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from fjordsync.domain.diff import ActionKind
from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.flows.common import ItemOutcome, Outcome
from fjordsync.ledger import Ledger
from fjordsync_smartdok.sandbox import SmartDokSandbox
from fjordsync_twentyfourseven.sandbox import TwentyFourSevenSandbox

from .conftest import erp_and_smartdok_config, erp_smartdok_env, fjordsync
from .test_flows_erp_to_smartdok import erp_state, smartdok_state

ENV = erp_smartdok_env()


class Receiver:
    """A webhook receiver on 127.0.0.1: keeps each POST's JSON, answers ``status``."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.posts: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append(
                    {"json": json.loads(body), "content_type": self.headers["Content-Type"]}
                )
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/fjordsync"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """aiosmtpd's handler: keeps each message it is sent."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def mailbox():
    box = Mailbox()
    with socket.socket() as probe:  # a free port: the controller's start-up check needs one
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


def write_config(tmp_path, erp, sd, webhook_url: str, smtp_port: int) -> str:
    config = tmp_path / "fjordsync.toml"
    config.write_text(
        erp_and_smartdok_config(erp.url, sd.url)
        + textwrap.dedent(f"""
        [tenants.acme.flows.employees]
        source = "erp"
        target = "time"
        [notifications]
        on = ["failure", "new_problems"]
        webhooks = [{{ url = "{webhook_url}" }}]
        [notifications.email]
        host = "127.0.0.1"
        port = {smtp_port}
        sender = "fjordsync@fjordbygg.no"
        to = ["lonn@fjordbygg.no"]
        """),
        encoding="utf-8",
    )
    return str(config)


def run(config: str, *args: str, env: dict | None = None):
    result = fjordsync(
        "run", "employees", "--config", config, "--json", *args, env={**ENV, **(env or {})}
    )
    return result.returncode, json.loads(result.stdout)


def shown_run(config: str, run_id: int) -> dict:
    shown = fjordsync("runs", "show", str(run_id), "--config", config, "--json", env=ENV)
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


NO_EMAIL = (
    "has no e-mail address, which SmartDok needs to create a user: "
    "add a primary e-mail to the contact in 24SevenOffice"
)
NO_LICENCE = "no free SmartDok licence (1 missing): buy more or end users who have left"


def test_new_problems_are_told_once_by_webhook_and_email_and_known_ones_not_again(
    tmp_path, mailbox
):
    with (
        TwentyFourSevenSandbox(erp_state()) as erp,
        SmartDokSandbox(smartdok_state()) as sd,
        Receiver() as receiver,
    ):
        config = write_config(tmp_path, erp, sd, receiver.url, mailbox.port)
        code, first = run(config)
        assert (code, first["status"], first["new_problems"], first["known_problems"]) == (
            1,
            "partial",
            2,
            0,
        )
        record = shown_run(config, first["run_id"])
        [post] = receiver.posts
        assert post == {
            "content_type": "application/json",
            "json": {
                "tenant": "acme",
                "flow": "employees",
                "run_id": first["run_id"],
                "status": "partial",
                "reasons": ["new_problems"],
                "counts": {"invalid": 2, "written": 3},
                "new_problems": 2,
                "known_problems": 0,
                "problems": [
                    {
                        "kind": "cannot_carry",
                        "outcome": "invalid",
                        "message": NO_EMAIL,
                        "count": 1,
                        "records": ["2003"],  # keys only: the labels carry names
                        "field": "email",
                        "codes": [],
                    },
                    {
                        "kind": "no_capacity",
                        "outcome": "invalid",
                        "message": NO_LICENCE,
                        "count": 1,
                        "records": ["2005"],
                        "field": None,
                        "codes": [],
                    },
                ],
                "message": "1 SmartDok licence(s) missing: 3 new users, 2 free",
                "started_at": record["started_at"],
                "finished_at": record["finished_at"],
            },
        }
        assert "Berg" not in json.dumps(post) and "Moen" not in json.dumps(post)
        [(sender, recipients, content)] = mailbox.messages
        assert (sender, recipients) == ("fjordsync@fjordbygg.no", ["lonn@fjordbygg.no"])
        mail = message_from_bytes(content)
        assert mail["Subject"] == "fjordsync: employees for acme: 2 new problems"
        started = datetime.fromisoformat(record["started_at"]).astimezone(UTC)
        finished = datetime.fromisoformat(record["finished_at"]).astimezone(UTC)
        text = mail.get_payload(decode=True).decode().replace("\r\n", "\n")  # SMTP's CRLF
        assert text == (
            f"fjordsync run {first['run_id']} of employees for acme: partial\n"
            f"Started {started:%Y-%m-%d %H:%M:%S} UTC, "
            f"finished {finished:%Y-%m-%d %H:%M:%S} UTC.\n"
            "Counts: invalid 2, written 3\n"
            "Problems: 2 new, 0 known before.\n"
            "Message: 1 SmartDok licence(s) missing: 3 new users, 2 free\n"
            "\n"
            "New problems, by cause:\n"
            f"- 1 invalid (cannot_carry): {NO_EMAIL}\n"
            "  records: 2003\n"
            f"- 1 invalid (no_capacity): {NO_LICENCE}\n"
            "  records: 2005\n"
            "\n"
            f"Details: fjordsync runs show {first['run_id']}\n"
        )
        assert "Berg" not in content.decode() and "Moen" not in content.decode()

        code, second = run(config)
        assert (code, second["status"], second["new_problems"], second["known_problems"]) == (
            1,
            "partial",
            0,
            2,
        )
        assert (len(receiver.posts), len(mailbox.messages)) == (1, 1)  # nothing new: no one told
        code, third = run(config, "--ignore-known-problems")
        assert (code, third["status"], third["new_problems"], third["known_problems"]) == (
            0,
            "partial",
            0,
            2,
        )


def test_a_failing_webhook_leaves_the_run_as_it_was_with_a_note(tmp_path, mailbox):
    with (
        TwentyFourSevenSandbox(erp_state()) as erp,
        SmartDokSandbox(smartdok_state()) as sd,
        Receiver(status=503) as receiver,
    ):
        secret_url = f"{receiver.url}/T0001/B0002/s3cr3tpathtoken"
        config = write_config(tmp_path, erp, sd, secret_url, mailbox.port)
        log_file = tmp_path / "fjordsync.log"
        code, document = run(config, "--log-level", "DEBUG", "--log-file", str(log_file))
        assert (code, document["status"], document["counts"]) == (
            1,
            "partial",
            {"invalid": 2, "written": 3},
        )
        assert len(receiver.posts) == 3  # tried three times on a 5xx
        assert document["notes"] == [
            "1 SmartDok licence(s) missing: 3 new users, 2 free",
            "the webhook at 127.0.0.1 was not told: HTTP 503 after 3 tries",
        ]
        assert len(mailbox.messages) == 1  # the e-mail still went
        log = log_file.read_text(encoding="utf-8")
        assert "was not told: HTTP 503 after 3 tries" in log
        assert "HTTP Request: POST" in log and "s3cr3tpathtoken" not in log
        shown = shown_run(config, document["run_id"])
        assert shown["status"] == "partial"
        # the run history says so too (the run had closed before the hook was tried)
        assert shown["message"] == (
            "1 SmartDok licence(s) missing: 3 new users, 2 free; "
            "the webhook at 127.0.0.1 was not told: HTTP 503 after 3 tries"
        )


def test_a_failed_run_is_told_without_the_credential_it_failed_on(tmp_path, mailbox):
    with (
        TwentyFourSevenSandbox(erp_state()) as erp,
        SmartDokSandbox(smartdok_state()) as sd,
        Receiver() as receiver,
    ):
        config = write_config(tmp_path, erp, sd, receiver.url, mailbox.port)
        result = fjordsync(
            "run",
            "employees",
            "--config",
            config,
            "--json",
            env={**ENV, "SD_TOKEN": "not-the-token-0123456789"},
        )
        assert result.returncode == 2
        error = json.loads(result.stdout)
        [post] = receiver.posts
        body = post["json"]
        assert (body["status"], body["reasons"], body["counts"], body["problems"]) == (
            "failed",
            ["failure"],
            {},
            [],
        )
        assert body["message"] == error["message"]
        assert "not-the-token-0123456789" not in json.dumps(body)
        [(_, _, content)] = mailbox.messages
        assert message_from_bytes(content)["Subject"] == "fjordsync: employees for acme: failed"
        assert b"not-the-token-0123456789" not in content


# --- the ledger's memory ------------------------------------------------------------------

T0 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def item(key: str, outcome: str, message: str = "", problem: Problem | None = None):
    action = ActionKind.INVALID if outcome == "invalid" else ActionKind.UPDATE
    return ItemOutcome(
        "employee", key, action, Outcome(outcome), message, problem=problem, label=f"{key} Name"
    )


MISSING_EMAIL = Problem(ProblemKind.CANNOT_CARRY, "email")


@pytest.fixture
def ledger(tmp_path, monkeypatch):
    monkeypatch.setenv("FJORDSYNC_LEDGER_KEY", "k" * 32)
    moments = iter(T0 + timedelta(minutes=minute) for minute in range(100))
    store = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", clock=lambda: next(moments))
    yield store
    store.close()


def remember(ledger, items, *, complete=True):
    run_id = ledger.start_run("acme", "employees", trigger="manual", dry_run=False)
    return run_id, ledger.remember_problems("acme", "employees", run_id, items, complete=complete)


def test_problems_are_new_then_known_then_gone_when_met_without_them(ledger):
    first, news = remember(
        ledger,
        [
            item("2003", "invalid", "has no e-mail address", MISSING_EMAIL),
            item("2005", "conflict", "2 records share the key 2005"),
            item("2001", "written"),
        ],
    )
    assert (news.new, news.known, news.gone) == (2, 0, 0)
    second, news = remember(
        ledger,
        [
            item("2003", "invalid", "has no e-mail address", MISSING_EMAIL),
            item("2005", "written"),  # met without its problem: gone
            item("2001", "failed", "the target answered 500"),
        ],
    )
    assert (news.new, news.known, news.gone) == (1, 1, 1)
    assert [
        (p.record_key, p.outcome, p.kind, p.label, p.first_run_id, p.last_run_id)
        for p in ledger.open_problems("acme")
    ] == [
        ("2001", "failed", None, "2001 Name", second, second),
        ("2003", "invalid", "cannot_carry", "2003 Name", first, second),
    ]
    assert ledger.open_problem_counts("acme") == {"employees": {first: 1, second: 1}}


def test_a_run_of_a_part_closes_only_the_problems_of_records_it_met(ledger):
    remember(ledger, [item("2003", "invalid", "x", MISSING_EMAIL), item("2004", "failed", "y")])
    _, news = remember(ledger, [item("2004", "written")], complete=False)  # --employees 2004
    assert (news.new, news.known, news.gone) == (0, 0, 1)
    assert [p.record_key for p in ledger.open_problems("acme", "employees")] == ["2003"]
    _, news = remember(ledger, [item("2004", "written")], complete=True)  # 2003 left the scope
    assert (news.new, news.known, news.gone) == (0, 0, 1)
    assert ledger.open_problems("acme") == []


def test_a_problem_that_comes_back_is_new_again_and_another_problem_of_a_record_is_new(ledger):
    remember(ledger, [item("2003", "invalid", "x", MISSING_EMAIL)])
    remember(ledger, [item("2003", "written")])
    third, news = remember(ledger, [item("2003", "invalid", "x", MISSING_EMAIL)])
    assert (news.new, news.known, news.gone) == (1, 0, 0)
    [back] = ledger.open_problems("acme")
    assert (back.first_run_id, back.gone_at) == (third, None)
    _, news = remember(ledger, [item("2003", "invalid", "", Problem(ProblemKind.NO_CAPACITY))])
    assert (news.new, news.known, news.gone) == (1, 0, 1)


def test_the_same_message_of_two_records_is_one_problem_each_and_kept_masked(ledger):
    remember(
        ledger,
        [
            item("900017", "failed", "hour 900017: fødselsnummer 15108695088 refused"),
            item("900018", "failed", "hour 900018: fødselsnummer 15108695088 refused"),
        ],
    )
    _, news = remember(
        ledger,
        [
            item("900017", "failed", "hour 900017: fødselsnummer 15108695088 refused"),
            item("900018", "failed", "hour 900018: fødselsnummer 15108695088 refused"),
        ],
    )
    assert (news.new, news.known) == (0, 2)
    assert all("15108695088" not in (p.message or "") for p in ledger.open_problems("acme"))


def test_labels_are_masked_on_the_way_in(ledger):
    labelled = [
        ItemOutcome(
            "employee",
            str(key),
            ActionKind.INVALID,
            Outcome.INVALID,
            "x",
            problem=MISSING_EMAIL,
            label=f"{key} Kari Nordmann, 15108695088",
        )
        for key in (2003, 2004)
    ]
    weird = replace(labelled[0], key="2005", label="2005 Per\n15108695088 Berg")
    remember(ledger, [*labelled, weird])
    assert [p.label for p in ledger.open_problems("acme")] == [
        "2003 Kari Nordmann, ***",
        "2004 Kari Nordmann, ***",
        "2005 Per\n*** Berg",
    ]


def test_a_large_run_is_remembered_and_compared_in_batches(ledger):
    # Per-row statements would take minutes at this size; benchmarks are in docs/notifications.md.
    items = [item(str(n), "invalid", "x", MISSING_EMAIL) for n in range(20_000)]
    _, news = remember(ledger, items)
    _, again = remember(ledger, items)
    _, half = remember(ledger, items[:10_000])
    assert (news.new, again.known, half.known, half.gone) == (20_000, 20_000, 10_000, 10_000)
    assert len(ledger.open_problems("acme")) == 10_000


def test_an_interrupted_run_is_told_once_without_retries(tmp_path, monkeypatch):
    import asyncio

    from fjordsync.config import load_config
    from fjordsync.flows import registry
    from fjordsync.plugins import connectors, get_plugin_manager
    from fjordsync.runtime import runner

    monkeypatch.setenv("FJORDSYNC_LEDGER_KEY", "k" * 32)

    async def stopped(context, source, target):
        raise asyncio.CancelledError

    stopping = replace(registry.FLOWS["projects"], run=stopped)
    monkeypatch.setitem(registry.FLOWS, "projects", stopping)
    with Receiver(status=500) as receiver:
        path = tmp_path / "fjordsync.toml"
        path.write_text(
            textwrap.dedent(f"""
                [ledger]
                url = "sqlite:///ledger.db"
                [tenants.acme.connections.erp]
                plugin = "memory"
                [tenants.acme.connections.time]
                plugin = "memory"
                [tenants.acme.flows.projects]
                source = "erp"
                target = "time"
                [tenants.acme.notifications]
                on = ["failure"]
                webhooks = [{{ url = "{receiver.url}" }}]
            """),
            encoding="utf-8",
        )
        registered = connectors(get_plugin_manager())
        config = load_config(path, connectors=registered)
        ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", clock=lambda: T0)
        with pytest.raises(asyncio.CancelledError):
            asyncio.run(runner.run_flow(config, registered, ledger, "projects", now=lambda: T0))
        ledger.close()
    [post] = receiver.posts  # one try: a stopping process does not wait on retries
    assert {k: post["json"][k] for k in ("status", "reasons", "message", "new_problems")} == {
        "status": "interrupted",
        "reasons": ["failure"],
        "message": "the run was stopped (CancelledError) before it finished",
        "new_problems": None,
    }
