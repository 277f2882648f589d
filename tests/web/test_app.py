"""The web application in process (Starlette's test client), on the embedded SQLite ledger and
on PostgreSQL: a run recorded in either shows with its problems by cause, the session key is
made once 0600 beside the ledger key, and the saved plans go beside a SQLite ledger or to the
user's state directory. Then the login's own rules: argon2 verification, the limiter, CSRF
comparison, the session key file."""

from __future__ import annotations

import os
import re
import textwrap
import warnings

import pytest

with warnings.catch_warnings():  # starlette would rather have httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from fjordsync.domain.problems import Problem, ProblemKind
from fjordsync.errors import FjordsyncError
from fjordsync.ledger import Ledger
from fjordsync.web import auth
from fjordsync.web.app import create_app, plans_dir
from tests.distributed.processes import connections_section, empty_ledger, secrets_env

POSTGRES_URL = os.environ.get("FJORDSYNC_TEST_POSTGRES_URL")
PASSWORD = "a long and secret phrase"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    if not POSTGRES_URL:
        pytest.skip(
            "set FJORDSYNC_TEST_POSTGRES_URL to run the PostgreSQL ledger tests "
            "(.ci/run starts a server and sets it)"
        )
    return empty_ledger(POSTGRES_URL)


@pytest.fixture
def config(tmp_path, ledger_url, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name, value in secrets_env().items():
        monkeypatch.setenv(name, value)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[web_users]\n"clerk" = "{auth.hash_password(PASSWORD)}"\n')
    secrets.chmod(0o600)
    path = tmp_path / "fjordsync.toml"
    path.write_text(
        'secrets_file = "secrets.toml"\n'
        + f'[ledger]\nurl = "{ledger_url}"\nkey_file = "keys/ledger.key"\n'
        + "[web]\nsecure_cookies = false\n"
        + connections_section("acme", "http://127.0.0.1:9", "http://127.0.0.1:9")
        + textwrap.dedent("""
            [tenants.acme.flows.hours]
            source = "time"
            target = "erp"
        """)
    )
    return path


def logged_in(app) -> TestClient:
    client = TestClient(app, base_url="http://127.0.0.1")
    token = TOKEN.search(client.get("/login").text).group(1)
    done = client.post(
        "/login",
        data={"csrf_token": token, "user": "clerk", "password": PASSWORD, "next": "/runs"},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, "/runs")
    return client


def test_a_run_in_either_ledger_shows_with_its_problems_by_cause(config, ledger_url, tmp_path):
    ledger = Ledger(ledger_url, key_file=str(tmp_path / "keys" / "ledger.key"))
    run_id = ledger.start_run("acme", "hours", trigger="manual", dry_run=False)
    for number in ("900017", "900018"):
        ledger.record_item(
            run_id,
            entity="hour",
            key=number,
            action="create",
            outcome="invalid",
            message=f"wage code T110 has no Salary Type ID T110 (record {number})",
            label=f"employee 2001 Nora Larsen, 2026-10-0{number[-1]}, project 1001",
            problem=Problem(ProblemKind.MISSING_REFERENCE, "wage", ("T110",)),
        )
    ledger.finish_run(run_id, status="partial", counts={"invalid": 2}, message=None)
    ledger.close()

    client = logged_in(create_app(str(config)))
    page = client.get(f"/runs/{run_id}")
    assert page.status_code == 200
    problems = page.text[page.text.index('<table id="problems">') :]
    problems = problems[: problems.index("</table>")]
    cells = [
        re.sub(r"\s+", " ", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", problems, re.S)
    ]
    assert cells[0] == "2"
    assert cells[1] == "invalid"
    assert cells[2].startswith("wage code T110 has no Salary Type ID T110")
    assert cells[3] == (
        "employee 2001 Nora Larsen, 2026-10-07, project 1001<br>"
        "employee 2001 Nora Larsen, 2026-10-08, project 1001"
    )

    key = tmp_path / "keys" / auth.SESSION_KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    first = key.read_text()
    create_app(str(config))
    assert key.read_text() == first  # made once, then used


def test_saved_plans_go_beside_a_sqlite_ledger_else_to_the_state_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert plans_dir(f"sqlite:///{tmp_path / 'x' / 'ledger.db'}") == tmp_path / "x" / "plans"
    assert plans_dir("postgresql+psycopg://u@db/fjordsync") == (
        tmp_path / "state" / "fjordsync" / "plans"
    )


def test_verify_login_takes_the_right_password_only():
    users = {"clerk": auth.hash_password(PASSWORD), "broken": "not-a-hash"}
    assert auth.verify_login(users, "clerk", PASSWORD)
    assert not auth.verify_login(users, "clerk", PASSWORD + "x")
    assert not auth.verify_login(users, "nobody", PASSWORD)
    assert not auth.verify_login(users, "broken", "not-a-hash")


def test_the_limiter_counts_failures_per_user_and_per_address_in_a_window():
    clock = [1000.0]
    limiter = auth.LoginLimiter(max_failures=3, window_s=60, clock=lambda: clock[0])
    for _ in range(3):
        assert limiter.retry_after("clerk", "10.0.0.1") == 0
        limiter.failed("clerk", "10.0.0.1")
    assert limiter.retry_after("clerk", "10.0.0.2") == 61  # the user, from anywhere
    assert limiter.retry_after("other", "10.0.0.1") == 61  # the address, for anyone
    clock[0] += 30
    assert limiter.retry_after("other", "10.0.0.1") == 31
    limiter.succeeded("clerk")
    assert limiter.retry_after("clerk", "10.0.0.2") == 0
    assert limiter.retry_after("clerk", "10.0.0.1") == 31  # the address keeps its failures
    clock[0] += 31
    assert limiter.retry_after("other", "10.0.0.1") == 0


def test_csrf_tokens_compare_whole_and_never_empty():
    token = auth.new_csrf_token()
    assert auth.csrf_ok(token, token)
    assert not auth.csrf_ok(token, token[:-1])
    assert not auth.csrf_ok(token, None)
    assert not auth.csrf_ok(None, None)
    assert not auth.csrf_ok("", "")


def test_the_session_key_is_the_configured_one_else_a_private_file(tmp_path):
    assert auth.session_secret("configured-secret", tmp_path) == "configured-secret"
    assert not (tmp_path / auth.SESSION_KEY_FILE).exists()
    made = auth.session_secret(None, tmp_path)
    assert len(made) == 64
    assert auth.session_secret(None, tmp_path) == made
    (tmp_path / auth.SESSION_KEY_FILE).chmod(0o644)
    with pytest.raises(FjordsyncError) as refused:
        auth.session_secret(None, tmp_path)
    assert str(refused.value) == (
        f"the web session key {tmp_path / auth.SESSION_KEY_FILE} can be read or written by "
        f"others (mode 0644): chmod 600 {tmp_path / auth.SESSION_KEY_FILE}"
    )


def test_an_unexpected_error_is_one_line_and_its_traceback_goes_to_the_log_file(
    config, tmp_path, monkeypatch
):
    from fjordsync.web import pages

    def broken(web):
        raise RuntimeError("a bug with a value 12345678901 in it")

    monkeypatch.setattr(pages, "_statuses", broken)
    client = logged_in(create_app(str(config)))
    page = client.get("/")
    log_file = tmp_path / "state" / "fjordsync" / "fjordsync.log"
    assert page.status_code == 500
    assert page.text == (
        "<!doctype html><title>Error</title><p>fjordsync web: unexpected error (RuntimeError) "
        f"— details in {log_file}</p>"
    )
    logged = log_file.read_text()
    assert "Traceback" in logged and "RuntimeError" in logged
    assert "12345678901" not in logged  # masked there too (a personal number's shape)


def test_read_without_login_opens_the_pages_but_never_the_actions(config):
    text = config.read_text().replace("[web]\n", "[web]\nread_without_login = true\n")
    config.write_text(text)
    client = TestClient(create_app(str(config)), base_url="http://127.0.0.1")
    for path in ("/", "/runs", "/plans", "/schedules", "/flows/acme/hours"):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 200, path
    flow = client.get("/flows/acme/hours").text
    assert "to run, plan or apply." in flow and "Save plan for review" not in flow
    token = TOKEN.search(client.get("/login").text).group(1)  # this session's own token
    refused = client.post("/flows/acme/hours/dry-run", data={"csrf_token": token})
    assert refused.status_code == 403
    assert "Log in first: actions need a login." in refused.text
