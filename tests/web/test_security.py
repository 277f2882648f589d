"""What ``fjordsync web`` refuses, asked over plain HTTP (httpx) as a forged page or a guesser
would: an action without a login, an action without (or with another session's) CSRF token,
pages without a login, a foreign Host header, and a failed login that would tell which of user
and password was wrong; logins are rate limited."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.web.conftest import PASSWORD, USER, fjordsync, start_web, stop

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A cookie jar that keeps a Secure cookie over http://127.0.0.1, as Chromium does
    (httpx's jar, like http.cookiejar, would drop it)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.cookie: str | None = None

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if self.cookie:
            headers["cookie"] = self.cookie
        response = httpx.request(method, f"{self.url}{path}", headers=headers, **kwargs)
        set_cookie = response.headers.get("set-cookie")
        if set_cookie:
            self.cookie = set_cookie.split(";", 1)[0]
        return response

    def token(self, path: str = "/login") -> str:
        found = TOKEN.search(self.request("GET", path).text)
        assert found, path
        return found.group(1)

    def login(self, user: str = USER, password: str = PASSWORD) -> httpx.Response:
        return self.request(
            "POST",
            "/login",
            data={"csrf_token": self.token(), "user": user, "password": password, "next": "/"},
        )


def run_count(site) -> int:
    listed = fjordsync("runs", "list", "--config", str(site.config), "--json", env=site.env)
    return len(json.loads(listed.stdout)["runs"])


def test_an_action_without_a_login_is_refused_and_runs_nothing(site):
    runs_before = run_count(site)
    stranger = Browser(site.url)
    token = stranger.token()  # a session of its own, with a token, but no login
    for path in ("/flows/demo/projects/dry-run", "/flows/demo/projects/plan"):
        refused = stranger.request("POST", path, data={"csrf_token": token})
        assert refused.status_code == 403
        assert "Log in first: actions need a login." in refused.text
    refused = httpx.post(f"{site.url}/flows/demo/projects/dry-run")  # no cookie at all
    assert refused.status_code == 403
    assert run_count(site) == runs_before


def test_an_action_without_the_csrf_token_is_refused(site):
    runs_before = run_count(site)
    clerk = Browser(site.url)
    assert clerk.login().status_code == 303
    other = Browser(site.url)
    other_token = other.token()
    for data in ({}, {"csrf_token": ""}, {"csrf_token": other_token}, {"csrf_token": "x" * 43}):
        refused = clerk.request("POST", "/flows/demo/projects/dry-run", data=data)
        assert refused.status_code == 403, data
        assert "(CSRF token)" in refused.text
    assert run_count(site) == runs_before
    # With its own token (the form field, or the header htmx sends) the same action runs.
    token = clerk.token("/flows/demo/projects")
    done = clerk.request("POST", "/flows/demo/projects/dry-run", headers={"x-csrf-token": token})
    assert done.status_code == 200
    assert "Nothing was written." in done.text
    assert run_count(site) == runs_before + 1


def test_pages_need_a_login_and_a_foreign_host_is_refused(site):
    for path in ("/", "/runs", f"/runs/{site.hours_run}", "/plans", "/schedules"):
        response = httpx.get(f"{site.url}{path}")
        assert (response.status_code, response.headers["location"]) == (
            303,
            f"/login?next={path}",
        )
    rebound = httpx.get(f"{site.url}/login", headers={"host": "attacker.example"})
    assert rebound.status_code == 400
    login = httpx.get(f"{site.url}/login")
    assert login.headers["cache-control"] == "no-store"
    assert login.headers["content-security-policy"].startswith("default-src 'self'")
    cookie = login.headers["set-cookie"]
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie


def test_a_failed_login_never_says_which_part_was_wrong_and_logins_are_rate_limited(site):
    # A server of its own: its limiter must not lock the other tests' logins out.
    web, url = start_web(site.config, site.env)
    try:
        wrong_password = Browser(url).login(password="not the password")
        unknown_user = Browser(url).login(user="nobody")
        for failed in (wrong_password, unknown_user):
            assert failed.status_code == 401
            assert "Wrong user name or password." in failed.text
        assert wrong_password.text.replace(TOKEN.search(wrong_password.text).group(1), "") == (
            unknown_user.text.replace(TOKEN.search(unknown_user.text).group(1), "")
        )
        for _ in range(3):
            assert Browser(url).login(password="guess").status_code == 401
        # Five failures for this user in the window: even the right password waits now.
        limited = Browser(url).login()
        assert limited.status_code == 429
        assert re.search(r"Too many failed logins: try again in \d+ seconds\.", limited.text)
    finally:
        stop(web)


@pytest.mark.parametrize("path", ["/plans/..%2Fdemo.toml", "/plans/demo.toml", "/runs/999999"])
def test_what_is_not_there_is_not_found(site, path):
    clerk = Browser(site.url)
    clerk.login()
    assert clerk.request("GET", path).status_code == 404


def test_pages_answer_while_a_long_dry_run_goes_on(site):
    """An hours dry run takes long (every hour read and planned); it runs beside the pages, not
    in front of them: while it goes on, the run list answers and shows it running. SmartDok is
    slowed (its sandbox's latency fault) so the run certainly outlasts a look at the list; no
    clock is asserted."""
    import threading

    smartdok = site.sandboxes["smartdok"]
    clerk = Browser(site.url)
    clerk.login()
    token = clerk.token("/flows/demo/hours")
    answers: list[httpx.Response] = []
    dry_run = threading.Thread(
        target=lambda: answers.append(
            clerk.request(
                "POST", "/flows/demo/hours/dry-run", data={"csrf_token": token}, timeout=300
            )
        )
    )
    httpx.post(f"{smartdok}/_sandbox/faults", content="latency=1500").raise_for_status()
    try:
        dry_run.start()
        seen_running = False
        for _ in range(200):  # bounded: the dry run takes several slowed requests
            listing = clerk.request("GET", "/runs")
            assert listing.status_code == 200
            if 'class="status-running"' in listing.text and dry_run.is_alive():
                seen_running = True
                break
            if not dry_run.is_alive():
                break
        assert seen_running, "the run list never answered while the dry run went on"
    finally:
        httpx.post(f"{smartdok}/_sandbox/faults", content="").raise_for_status()
        dry_run.join(timeout=300)
    (answer,) = answers
    assert answer.status_code == 200
    assert "Nothing was written." in answer.text
