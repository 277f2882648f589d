"""The AlexisHR connector and sandbox as a user reaches them: plugin, config and CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from fjordsync.config import load_config
from fjordsync.plugins import connectors, get_plugin_manager
from fjordsync.ports import Query

FJORDSYNC = str(Path(sys.executable).parent / "fjordsync")


def test_plugin_lists_the_ports_it_serves():
    result = subprocess.run(
        [FJORDSYNC, "plugins", "--json"], capture_output=True, text=True, check=True
    )
    alexis = next(c for c in json.loads(result.stdout)["connectors"] if c["name"] == "alexis")
    assert alexis["capabilities"] == [
        "EmployeeReader",
        "EmploymentReader",
        "CompensationReader",
        "AbsenceReader",
    ]


def test_generate_then_serve_the_generated_company(tmp_path):
    seed = tmp_path / "alexis.json"
    subprocess.run(
        [
            FJORDSYNC,
            "sandbox",
            "generate",
            "alexis",
            "--employees",
            "7",
            "--seed",
            "5",
            "--out",
            str(seed),
        ],
        check=True,
        timeout=60,
    )
    state = json.loads(seed.read_text(encoding="utf-8"))
    assert len(state["employee"]) == 7
    server = subprocess.Popen(
        [FJORDSYNC, "sandbox", "serve", "alexis", "--seed", str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        announced = json.loads(server.stdout.readline())
        assert announced["connections"]["alexis"]["base_url"] == announced["url"] + "/v1"
        answer = httpx.get(
            f"{announced['url']}/v1/employee", headers={"Authorization": "Bearer sandbox-token"}
        )
        assert answer.json()["total"] == 7
        assert httpx.get(f"{announced['url']}/_sandbox/state").json() == state
    finally:
        server.terminate()
        server.wait(timeout=10)


async def test_a_config_connection_reaches_the_sandbox(sandbox, tmp_path):
    (tmp_path / "fjordsync.toml").write_text(
        '[tenants.acme.connections.hr]\nplugin = "alexis"\n'
        f'settings = {{ base_url = "{sandbox.url}/v1", token = "${{ALEXIS_TOKEN}}", '
        "page_size = 3 }\n",
        encoding="utf-8",
    )
    registered = connectors(get_plugin_manager())
    config = load_config(
        tmp_path / "fjordsync.toml",
        connectors=registered,
        environ={"ALEXIS_TOKEN": "sandbox-token"},
    )
    settings = config.connection_settings["acme"]["hr"]
    assert "sandbox-token" not in repr(settings)
    adapter = registered["alexis"].connector.build(settings)
    employees = await adapter.read_employees(Query())
    await adapter.aclose()
    assert len(employees) == 5
