"""The distributions work when installed with plain pip, away from the workspace.

The wheels of the core and of each plugin are built from this tree. Each plugin then goes with
the core into a fresh virtual environment (``python -m venv``, then ``pip install`` of the two
wheels with their dependencies from the package index: no uv, no lock, no development group),
and that environment's own ``fjordsync`` command serves the plugin's sandbox and runs one of the
plugin's flows against it, with the core's ``memory`` connector on the other side. A module a
distribution imports without declaring it fails here as it would for a user, where the locked
workspace, which holds every distribution's dependencies and the development tools, hides it.

The environments are made ``--without-pip`` and filled by this environment's pip
(``pip --python``): they then hold only what the two wheels pull in, not even pip or setuptools,
and skipping ensurepip and bytecode compilation keeps the three under a minute or two. They are
made side by side, and share pip's cache (and across runs), so a package is downloaded once.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT

# Variables of the workspace's environment that must not leak into the installed one.
LEAKS = (
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "FJORDSYNC_PLUGINS",
    "FJORDSYNC_DISABLE_PLUGINS",
)
ENV = {key: value for key, value in os.environ.items() if key not in LEAKS}
BIN = "Scripts" if os.name == "nt" else "bin"
DEVELOPMENT_ONLY = ("pytest", "hypothesis", "openapi_core", "deptry", "importlinter", "pip")
PROJECTS = [
    {"key": "FS-1", "name": "Kaia kontorbygg", "start": "2026-01-05"},
    {"key": "FS-2", "name": "Bjørkeveien bru", "customer_name": "Fjordvik kommune"},
]


@dataclass(frozen=True)
class Case:
    plugin: str  # directory under plugins/
    wheel: str  # the wheel's file name starts with this
    sandbox: str
    connector: str
    flow: str
    vendor_is_source: bool


CASES = [
    Case("twentyfourseven", "fjordsync_24sevenoffice", "twentyfourseven", "twentyfourseven",
         "projects", vendor_is_source=True),
    Case("smartdok", "fjordsync_smartdok", "smartdok", "smartdok", "projects",
         vendor_is_source=False),
    Case("alexis", "fjordsync_alexis", "alexis", "alexis", "payroll-employees",
         vendor_is_source=True),
]  # fmt: skip


def _run(command: list[str | Path], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=ENV,
        timeout=timeout,
        check=False,
    )


def _ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    """The four wheels, built from this tree by the build backend the projects declare."""
    out = tmp_path_factory.mktemp("wheels")
    sources = [ROOT, *(ROOT / "plugins" / case.plugin for case in CASES)]
    # --no-build-isolation: hatchling comes from the dev group, so the build needs no index.
    _ok(
        _run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
             "--wheel-dir", out, *sources],
            cwd=out,
        )
    )  # fmt: skip
    return out


def _wheel(wheels: Path, prefix: str) -> Path:
    [found] = [path for path in wheels.glob("*.whl") if path.name.split("-")[0] == prefix]
    return found


def _environment(venv: Path, core: Path, plugin: Path) -> subprocess.CompletedProcess:
    made = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=venv.parent)
    if made.returncode != 0:
        return made
    python = venv / BIN / "python"
    return _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-compile",
         core, plugin],
        cwd=venv.parent,
    )  # fmt: skip


@pytest.fixture(scope="module")
def environments(wheels, tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """Per plugin, a fresh virtual environment with the core's and the plugin's wheels, and
    pip's answer (each test asserts on its own)."""
    base = tmp_path_factory.mktemp("environments")
    core = _wheel(wheels, "fjordsync")
    with ThreadPoolExecutor(len(CASES)) as pool:
        jobs = {
            case.plugin: (
                base / case.plugin,
                pool.submit(_environment, base / case.plugin, core, _wheel(wheels, case.wheel)),
            )
            for case in CASES
        }
    return {plugin: (venv, job.result()) for plugin, (venv, job) in jobs.items()}


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


@contextmanager
def _sandbox(fjordsync: Path, name: str, cwd: Path) -> Iterator[dict]:
    """``fjordsync sandbox serve NAME`` of the installed environment: its JSON line."""
    log = cwd / f"{name}-sandbox.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [str(fjordsync), "sandbox", "serve", name, "--employees", "8"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=cwd,
            env=ENV,
        )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready else ""
        assert line, f"the {name} sandbox did not start:\n{log.read_text()}"
        yield json.loads(line)
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


@pytest.mark.parametrize("case", CASES, ids=[case.plugin for case in CASES])
def test_a_plugin_installed_with_pip_runs_its_flow_against_its_sandbox(
    case, environments, tmp_path
):
    venv, installed = environments[case.plugin]
    _ok(installed)
    python, fjordsync = venv / BIN / "python", venv / BIN / "fjordsync"

    # The environment is the user's: the plugin and the core, none of the development tools.
    found = _ok(
        _run(
            [python, "-c", "import importlib.util as u, sys; "
             "print(','.join(m for m in sys.argv[1:] if u.find_spec(m)))", *DEVELOPMENT_ONLY],
            cwd=tmp_path,
        )
    ).stdout.strip()  # fmt: skip
    assert found == ""

    with _sandbox(fjordsync, case.sandbox, tmp_path) as served:
        url, settings = served["url"], served["connections"][case.connector]
        before = httpx.get(f"{url}/_sandbox/state").json()
        # Every text setting as a ${reference}: secrets may not be written into a config.
        secrets = {f"FS_{key.upper()}": value for key, value in settings.items()
                   if isinstance(value, str)}  # fmt: skip
        vendor = {key: "${FS_" + key.upper() + "}" if isinstance(value, str) else value
                  for key, value in settings.items()}  # fmt: skip
        memory = {} if case.vendor_is_source else {"projects": PROJECTS}
        source, target = ("vendor", "other") if case.vendor_is_source else ("other", "vendor")
        config = tmp_path / "fjordsync.toml"
        config.write_text(
            f'[ledger]\nurl = "sqlite:///{(tmp_path / "ledger.db").as_posix()}"\n'
            f'[tenants.t.connections.vendor]\nplugin = "{case.connector}"\n'
            f"settings = {_toml(vendor)}\n"
            f'[tenants.t.connections.other]\nplugin = "memory"\nsettings = {_toml(memory)}\n'
            f'[tenants.t.flows.{case.flow}]\nsource = "{source}"\ntarget = "{target}"\n',
            encoding="utf-8",
        )
        result = subprocess.run(
            [str(fjordsync), "run", case.flow, "--config", str(config), "--json"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**ENV, **secrets},
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
        document = json.loads(result.stdout)
        stats = httpx.get(f"{url}/_sandbox/stats").json()
        after = httpx.get(f"{url}/_sandbox/state").json()

    assert document["status"] == "succeeded"
    if case.plugin == "twentyfourseven":
        # every project of the ERP, open and deactivated, read over SOAP into memory
        assert document["counts"] == {"written": len(before["Project"])} and before["Project"]
        assert stats["total_writes"] == 0 and stats["total_requests"] > 0
    elif case.plugin == "smartdok":
        assert document["counts"] == {"written": 2}
        created = {p["ProjectNumber"]: p["ProjectName"] for p in after["Projects"]}
        assert created.items() >= {"FS-1": "Kaia kontorbygg", "FS-2": "Bjørkeveien bru"}.items()
        assert len(after["Projects"]) == len(before["Projects"]) + 2
    else:
        employees = before["employee"]
        assert document["counts"]["written"] >= len(employees) > 0
        assert stats["total_writes"] == 0 and stats["total_requests"] > 0
