"""The generated company and the set of sandboxes the whole-engine benchmarks share
(``chaos.py``, ``scale.py``, ``naive.py``).

- ``company(size, today)``: the three sandboxes' states for one company, deterministic by seed
  (the sandboxes' own generators; SmartDok's hours and AlexisHR's leaves sampled down; a share
  of SmartDok's users and projects left out and some of the rest edited, so that flows 1 and 2
  create and update too);
- ``periods(size, today)``: the ``--from/--to`` covering the generated hours and leaves;
- ``Systems``: the three vendor sandboxes served on 127.0.0.1 (in this process, or with
  ``processes=True`` each in a process of its own), with a config (``fjordsync.toml``) and a
  ledger of their own, and the sandboxes' control endpoints;
- ``answer_time(systems)``: the sandbox's own answer time, so that a benchmark can show it is
  not what is measured.

``size`` is any object with ``employees``, ``hours``, ``leaves`` and ``seed`` (and optionally
``projects``: by default the generators' own, one for every four employees).
"""

# ruff: noqa: S311, S603

from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fjordsync.cli import write_demo_config
from fjordsync.testing.sandbox import Sandbox, SandboxProcess
from fjordsync_alexis.sandbox import AlexisSandbox
from fjordsync_alexis.sandbox import generate as generate_alexis
from fjordsync_smartdok.sandbox import SmartDokSandbox
from fjordsync_smartdok.sandbox import generate as generate_smartdok
from fjordsync_twentyfourseven.sandbox import TwentyFourSevenSandbox
from fjordsync_twentyfourseven.sandbox.generator import generate as generate_24so

FJORDSYNC = str(Path(sys.executable).parent / "fjordsync")
TENANT = "demo"  # the tenant of the config `write_demo_config` writes
# 24SevenOffice's hourly budget, lifted: a benchmark measures faults or throughput, not the
# budget (which has a scenario of its own in scale.py).
RATE_BUDGET = 10_000_000
# The connection (by connector) whose settings a Systems' ``settings`` argument extends.
CONNECTORS = ("alexis", "twentyfourseven", "twentyfourseven-payroll", "smartdok")


# -- the generated company ----------------------------------------------------------------------
def company(options: Any, today: date) -> dict[str, dict[str, Any]]:
    """The three sandboxes' states for one company, deterministic by seed."""
    rng = random.Random(options.seed)
    n, seed = options.employees, options.seed
    months = max(1, -(-options.hours // max(1, 19 * options.employees)))  # enough work days
    projects = getattr(options, "projects", None)  # None: the generators' own number
    smartdok = generate_smartdok(
        employees=n, seed=seed, today=today, months=months, projects=projects
    )
    erp = generate_24so(employees=n, seed=seed, today=today, projects=projects)
    alexis = generate_alexis(employees=n, seed=seed, today=today)
    hours = smartdok["WorkHours"]
    if len(hours) > options.hours:
        smartdok["WorkHours"] = sorted(
            rng.sample(hours, options.hours), key=lambda h: h["WorkHourID"]
        )
    leaves = alexis["leave"]
    if len(leaves) > options.leaves:
        alexis["leave"] = rng.sample(leaves, options.leaves)
    # Flows 1 and 2 must create and update, not only find everything in place: leave out a share
    # of SmartDok's users and projects and edit some of the rest.
    for key, edit in (("Users", "Name"), ("Projects", "ProjectName")):
        kept = []
        for record in smartdok[key]:
            draw = rng.random()
            if draw < 0.3:
                continue
            if draw < 0.5:
                record[edit] = f"{record[edit]} (gammel)"
            kept.append(record)
        smartdok[key] = kept
    return {"alexis": alexis, "twentyfourseven": erp, "smartdok": smartdok}


def periods(options: Any, today: date) -> dict[str, list[str]]:
    """--from/--to covering the generated hours and leaves."""
    months = max(1, -(-options.hours // max(1, 19 * options.employees)))
    return {
        "hours": [
            "--from",
            (today - timedelta(days=30 * months + 7)).isoformat(),
            "--to",
            today.isoformat(),
        ],
        "absences": [
            "--from",
            (today - timedelta(days=400)).isoformat(),
            "--to",
            (today + timedelta(days=200)).isoformat(),
        ],
    }


# -- one set of sandboxes, with its config and ledger --------------------------------------------
def control(name: str, url: str, method: str, path: str, body: str = "") -> Any:
    """One request to a sandbox's control endpoints (``/_sandbox/...``), over HTTP as any client
    would send it; its JSON answer, or a RuntimeError naming the sandbox and the status."""
    host, _, port = url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request(method, path, body=body.encode() or None)
        answer = connection.getresponse()
        data = answer.read()
        if answer.status >= 400:
            raise RuntimeError(f"{name} {method} {path}: {answer.status} {data[:200]!r}")
        return json.loads(data or b"null")
    finally:
        connection.close()


class Systems:
    def __init__(
        self,
        name: str,
        states: dict[str, dict[str, Any]],
        workdir: Path,
        *,
        requests_per_hour: int = RATE_BUDGET,
        settings: dict[str, dict[str, Any]] | None = None,
        processes: bool = False,
    ) -> None:
        """``requests_per_hour``: 24SevenOffice's hourly budget, in the sandbox and in the
        config alike; ``settings``: more settings per connector (e.g. ``max_concurrency``);
        ``processes``: each sandbox in a process of its own, so that the three sandboxes and
        the benchmark share no GIL (``servers`` are then ``RemoteSandbox``es, read over HTTP;
        a wrapper put on their ``handle`` is never called: the handlers' time is in the stats,
        ``handler_ms`` and ``handler_cpu_ms``)."""
        self.name = name
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        kinds: dict[str, tuple[type[Sandbox], dict[str, Any]]] = {
            "alexis": (AlexisSandbox, {}),
            "twentyfourseven": (TwentyFourSevenSandbox, {"requests_per_hour": requests_per_hour}),
            "smartdok": (SmartDokSandbox, {}),
        }
        self.servers: dict[str, Any] = {}
        try:
            if processes:
                # Started together: each child's imports and state take a second or two.
                starting = {
                    name: threading.Thread(
                        target=lambda name=name, kind=kind, options=options: self.servers.update(
                            {name: RemoteSandbox(kind, states[name], **options)}
                        )
                    )
                    for name, (kind, options) in kinds.items()
                }
                for thread in starting.values():
                    thread.start()
                for thread in starting.values():
                    thread.join()
                if set(self.servers) != set(kinds):
                    raise RuntimeError(f"sandboxes not started: {set(kinds) - set(self.servers)}")
            else:
                for name, (kind, options) in kinds.items():
                    state = json.loads(json.dumps(states[name]))
                    self.servers[name] = kind(state, **options).start()
        except BaseException:
            self.stop()
            raise
        urls = {name: server.url for name, server in self.servers.items()}
        connections = {
            "alexis": {"alexis": {"base_url": f"{urls['alexis']}/v1", "token": _alexis_token()}},
            "twentyfourseven": _erp_connections(urls["twentyfourseven"], requests_per_hour),
            "smartdok": {"smartdok": {"base_url": urls["smartdok"], "api_token": _sd_token()}},
        }
        for by_connector in connections.values():
            for connector, values in by_connector.items():
                values.update((settings or {}).get(connector, {}))
        self.config = workdir / "fjordsync.toml"
        write_demo_config(str(self.config), urls, connections)

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    # The control endpoints, over HTTP as any client would use them.
    def call(self, server: str, method: str, path: str, body: str = "") -> Any:
        return control(server, self.servers[server].url, method, path, body)

    def set_faults(self, spec: str) -> None:
        for name in self.servers:
            self.call(name, "POST", "/_sandbox/faults", spec)

    def expire(self) -> None:
        """24SevenOffice's SOAP sessions and payroll tokens, SmartDok's sessions: all gone."""
        self.call("twentyfourseven", "DELETE", "/_sandbox/sessions")
        self.call("twentyfourseven", "DELETE", "/_sandbox/payroll-tokens")
        self.call("smartdok", "DELETE", "/_sandbox/sessions")

    def reset_stats(self) -> None:
        for name in self.servers:
            self.call(name, "DELETE", "/_sandbox/stats")

    def requests(self) -> int:
        return sum(
            self.call(name, "GET", "/_sandbox/stats")["total_requests"] for name in self.servers
        )

    def writes(self) -> int:
        """Writes committed so far (polled every few milliseconds: read in process, or from
        the stats of sandboxes in processes of their own)."""
        total = 0
        for server in self.servers.values():
            with server.lock:
                total += sum(server.writes.values())
        return total

    def handler_ms(self) -> dict[str, float]:
        """Milliseconds the sandboxes' handlers spent since the stats were reset: wall and
        CPU, summed over the three sandboxes."""
        stats = [self.call(name, "GET", "/_sandbox/stats") for name in self.servers]
        return {
            "wall": sum(s.get("handler_ms", 0.0) for s in stats),
            "cpu": sum(s.get("handler_cpu_ms", 0.0) for s in stats),
        }

    def state(self, server: str) -> dict[str, Any]:
        return self.call(server, "GET", "/_sandbox/state")

    def fjordsync(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FJORDSYNC, *args],
            capture_output=True,
            text=True,
            cwd=self.workdir,
            env={**os.environ, "COLUMNS": "200"},
            timeout=timeout,
            check=False,
        )


class RemoteSandbox:
    """A sandbox served in a process of its own, with what the benchmarks read of an in-process
    one (``url``, ``lock``, ``state``, ``writes``, ``requests``, 24SevenOffice's ``usage``),
    read over the control endpoints. The state is the child's: the parent holds none of it."""

    def __init__(self, kind: type[Sandbox], state: dict[str, Any], **options: Any) -> None:
        self.name = kind.name
        self._process = SandboxProcess(kind, state, **options)
        self.url = self._process.url
        self.lock = threading.RLock()  # only for callers' ``with server.lock``: nothing shared
        self.handle: Any = None  # a wrapper put here is never called (see Systems)

    def _get(self, path: str) -> Any:
        return control(self.name, self.url, "GET", path)

    @property
    def state(self) -> dict[str, Any]:
        return self._get("/_sandbox/state")

    @property
    def writes(self) -> Counter[str]:
        return Counter(self._get("/_sandbox/stats")["writes"])

    @property
    def requests(self) -> Counter[str]:
        return Counter(self._get("/_sandbox/stats")["requests"])

    @property
    def usage(self) -> dict[tuple[str, int], int]:
        """24SevenOffice's requests per (user, clock hour)."""
        return {(u["user"], u["hour"]): u["requests"] for u in self._get("/_sandbox/usage")}

    def stop(self) -> None:
        self._process.stop()


def _alexis_token() -> str:
    from fjordsync_alexis.sandbox import DEFAULT_TOKEN

    return DEFAULT_TOKEN


def _sd_token() -> str:
    from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN

    return DEFAULT_API_TOKEN


def _erp_connections(url: str, requests_per_hour: int) -> dict[str, dict[str, Any]]:
    from fjordsync_twentyfourseven.sandbox import (
        DEFAULT_ACCESS_TOKEN,
        DEFAULT_CREDENTIALS,
        DEFAULT_IDENTITIES,
    )

    return {
        "twentyfourseven": {
            "api_url": url,
            "webservices_url": url,
            "application_id": DEFAULT_CREDENTIALS["ApplicationId"],
            "username": DEFAULT_CREDENTIALS["Username"],
            "password": DEFAULT_CREDENTIALS["Password"],
            "identity_id": DEFAULT_IDENTITIES[0]["Id"],
            "requests_per_hour": requests_per_hour,
        },
        "twentyfourseven-payroll": {
            "payroll_url": f"{url}/payroll/api",
            "access_token": DEFAULT_ACCESS_TOKEN,
        },
    }


def answer_time(systems: Systems, samples: int = 50) -> float:
    """Median milliseconds of a small GET on one kept-alive connection, no faults."""
    url = systems.servers["smartdok"].url.removeprefix("http://")
    host, _, port = url.partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    times = []
    try:
        for _ in range(samples):
            started = time.perf_counter()
            connection.request("GET", "/_sandbox/faults")
            connection.getresponse().read()
            times.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    return statistics.median(times)
