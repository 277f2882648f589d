#!/usr/bin/env python3
"""Set-up and tasks for fjordsync, needing nothing but Python 3.11+ and pip.

    python3 dev.py demo    # set up, then the whole story against the three vendor sandboxes
    python3 dev.py test    # set up, then ruff, import contracts, mypy, deptry and the test suite
    python3 dev.py sync    # set up only: .venv with the exact versions of uv.lock

Set-up installs uv (pinned) into .dev/ with pip when it is not on PATH already, then makes
.venv from uv.lock with every workspace package. Standard library only, so it runs before any
dependency is there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
UV_VERSION = "0.13.9"
BOOTSTRAP = ROOT / ".dev" / "bootstrap"

# The code each distribution ships, and the pyproject.toml declaring its dependencies.
DISTRIBUTIONS = [
    ("core/fjordsync", "pyproject.toml"),
    ("plugins/smartdok/fjordsync_smartdok", "plugins/smartdok/pyproject.toml"),
    ("plugins/twentyfourseven/fjordsync_twentyfourseven", "plugins/twentyfourseven/pyproject.toml"),
    ("plugins/alexis/fjordsync_alexis", "plugins/alexis/pyproject.toml"),
]

# The workspace's own sources, compiled to bytecode by `sync` (uv compiles only site-packages).
SOURCES = ("core", "plugins", "tests", "examples", "benchmarks")

# Placeholder secrets for the demo's example config: they only have to be present.
DEMO_ENV = {
    "TFSO_APPLICATION_ID": "demo-application-id",
    "TFSO_PASSWORD": "demo-password",
    "TFSO_PAYROLL_TOKEN": "demo-payroll-token",
    "SMARTDOK_API_TOKEN": "demo-smartdok-token",
    "ALEXIS_TOKEN": "demo-alexis-token",
}


def run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    printable = " ".join(str(part) for part in command)
    print(f"$ {printable}", flush=True)
    result = subprocess.run(
        [str(part) for part in command], cwd=ROOT, env={**os.environ, **(env or {})}, check=False
    )
    if result.returncode != 0:
        sys.exit(result.returncode)


def uv() -> str:
    """A uv executable: on PATH, else installed once into .dev/bootstrap."""
    found = shutil.which("uv")
    if found:
        return found
    bin_dir = BOOTSTRAP / ("Scripts" if os.name == "nt" else "bin")
    local = bin_dir / ("uv.exe" if os.name == "nt" else "uv")
    if not local.exists():
        print(f"Installing uv {UV_VERSION} into {BOOTSTRAP.relative_to(ROOT)} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(BOOTSTRAP)
        run(bin_dir / "python", "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}")
    return str(local)


def sync() -> str:
    tool = uv()
    # Bytecode up front: where PYTHONDONTWRITEBYTECODE is set (this machine, some CI images) no
    # process writes any, so each of the hundreds of `fjordsync` processes the tests start
    # would compile every module it imports again (~1 s each). A .pyc is used only while its
    # source's mtime and size match, so a stale one is ignored, never run; when nothing
    # changed, both steps only compare those and take well under a second.
    run(tool, "sync", "--frozen", "--all-packages", "--quiet", "--compile-bytecode")
    python = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    sources = [name for name in SOURCES if (ROOT / name).is_dir()]
    # Not fatal: a file that does not compile is for ruff and the tests to name.
    subprocess.run([str(python), "-m", "compileall", "-q", *sources], cwd=ROOT, check=False)
    return tool


def demo() -> None:
    tool = sync()
    run(tool, "run", "--frozen", "fjordsync", "plugins")
    run(
        tool,
        "run",
        "--frozen",
        "fjordsync",
        "config",
        "check",
        "examples/config.toml",
        env=DEMO_ENV,
    )
    run(tool, "run", "--frozen", "python", "examples/demo.py")


def test() -> None:
    tool = sync()
    run(tool, "run", "--frozen", "ruff", "check", ".")
    run(tool, "run", "--frozen", "ruff", "format", "--check", ".")
    run(tool, "run", "--frozen", "lint-imports")
    # The code each wheel ships, by [tool.mypy] in pyproject.toml (strict for domain, ports, flows).
    run(tool, "run", "--frozen", "mypy")
    # Each distribution declares what its wheel imports; the workspace venv would hide a gap.
    for code, config in DISTRIBUTIONS:
        run(tool, "run", "--frozen", "deptry", code, "--config", config)
    run(tool, "run", "--frozen", "pytest", *sys.argv[2:])


TASKS = {"demo": demo, "test": test, "sync": sync}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__)
        sys.exit(2)
    TASKS[sys.argv[1]]()
