"""The web view's world: the three sandboxes (``fjordsync sandbox up``, the demo's company), the
demo's hours run in the ledger, a web user in the secrets file, and ``fjordsync web`` as a
subprocess on a free port, as a person would start them. Debian's chromium drives the pages
(never ``playwright install``); without /usr/bin/chromium the browser tests skip."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

FJORDSYNC = str(Path(sys.executable).parent / "fjordsync")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
USER = "clerk"
PASSWORD = "correct horse battery staple"


@dataclass
class Site:
    """A running ``fjordsync web`` over the demo's sandboxes."""

    url: str
    config: Path
    sandboxes: dict[str, str]
    env: dict[str, str]
    hours_run: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fjordsync(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FJORDSYNC, *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        check=False,
        timeout=180,
    )


def start_web(config: Path, env: dict[str, str], *extra: str) -> tuple[subprocess.Popen, str]:
    """``fjordsync web`` on a free port, once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [FJORDSYNC, "web", "--config", str(config), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"fjordsync web did not start: {process.stderr.read()}")
        try:
            httpx.get(f"{url}/login", timeout=2)
            return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("fjordsync web did not answer within 60 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("web")
    env = {**os.environ, "COLUMNS": "200", "XDG_STATE_HOME": str(work / "state")}
    config = work / "demo.toml"
    urls = work / "urls.json"
    sandboxes = subprocess.Popen(
        [FJORDSYNC, "sandbox", "up", "--config-out", str(config), "--urls-out", str(urls)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    web = None
    try:
        deadline = time.monotonic() + 60
        while not urls.exists() and time.monotonic() < deadline:
            assert sandboxes.poll() is None, sandboxes.stderr.read()
            time.sleep(0.2)
        # The user's line as `fjordsync web-user` prints it, pasted under [web_users].
        made = fjordsync("web-user", USER, env=env, stdin=f"{PASSWORD}\n{PASSWORD}\n")
        assert made.returncode == 0, made.stderr
        line = made.stdout.strip()
        assert line.startswith(f'"{USER}" = "$argon2id$'), line
        secrets = work / "demo.toml.secrets"
        secrets.write_text(secrets.read_text() + f"\n[web_users]\n{line}\n")
        # The demo's hours run: 344 invalid hours from a few causes.
        today = date.today()
        hours = fjordsync(
            "run",
            "hours",
            "--config",
            str(config),
            "--from",
            (today - timedelta(days=62)).isoformat(),
            "--to",
            today.isoformat(),
            "--json",
            env=env,
        )
        assert hours.returncode == 1, hours.stderr
        web, url = start_web(config, env)
        hours_run = json.loads(hours.stdout)["run_id"]
        yield Site(url, config, json.loads(urls.read_text()), env, hours_run)
    finally:
        if web is not None:
            stop(web)
        stop(sandboxes)


# Module-scoped: while Playwright's sync API is open it holds an event loop in this thread,
# and every async test after it (pytest-asyncio) would find that loop running.
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where the browser tests put their screenshots (FJORDSYNC_WEB_SCREENSHOTS keeps them)."""
    kept = os.environ.get("FJORDSYNC_WEB_SCREENSHOTS")
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
        return Path(kept)
    return tmp_path_factory.mktemp("screenshots")


def smartdok_projects(site: Site) -> dict[str, dict]:
    """The SmartDok sandbox's projects by number, read through its API as a client would."""
    base = site.sandboxes["smartdok"]
    session = httpx.post(f"{base}/Authorize/ApiToken", json={"Token": "smartdok-sandbox-token"})
    session.raise_for_status()
    found = httpx.get(
        f"{base}/Projects",
        params={"all": "true"},
        headers={"Authorization": f"Bearer {session.json()}"},
    )
    found.raise_for_status()
    return {str(p["ProjectNumber"]).strip(): p for p in found.json()["Items"]}
