"""The runnable examples run and do what they say."""

import os
import re
import subprocess
import sys

from .conftest import ROOT


def test_embedding_example_converges_and_reports_the_bad_record():
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "embed.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    invalid = "  invalid 1003: mail: is not a valid e-mail address"
    assert result.stdout.splitlines() == [
        invalid,
        "first pass: {'create': 2, 'invalid': 1}",
        invalid,
        "second pass: {'update': 1, 'unchanged': 1, 'invalid': 1}",
        invalid,
        "third pass: {'unchanged': 2, 'invalid': 1}",
        "writes: 3",
    ]


def test_the_demo_tells_the_whole_story():
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout
    for flow in ("projects", "employees", "hours", "payroll-employees", "absences"):
        assert f"$ fjordsync check {flow}" in output
        assert f"$ fjordsync {'plan' if flow == 'payroll-employees' else 'run'} {flow}" in output
    # the hours run shows its 344 invalid hours as their four causes, with records named
    hours = output.split("$ fjordsync run hours")[1].split("$ fjordsync plan")[0]
    assert "1,287 created, 344 problems. Status: partial" in hours
    assert "Problems: 344 records, 4 causes" in hours
    assert "344 new problems, 0 known" in hours
    # payroll: the plan shows the employments of employees it creates; apply writes just that
    planned = output.split("$ fjordsync plan payroll-employees")[1].split("$ fjordsync apply")[0]
    applied = output.split("$ fjordsync apply")[1].split("$ fjordsync run absences")[0]
    plan_line = re.search(r"(\d+) to create, (\d+) to update, (.*) problems", planned)
    apply_line = re.search(r"(\d+) created, (\d+) updated, (.*) problems", applied)
    assert plan_line and apply_line and plan_line.groups() == apply_line.groups()
    assert "plan saved to" in planned
    status = output.split("$ fjordsync status")[1]
    assert "344 open, 344 new" in status and "first-run rule" in status
    # the preflight finds each misalignment of the generated company and proposes the fix
    assert "has Ansattnummer" in output and "has the same e-mail: set Ansattnummer to" in output
    assert "has number P-" in output and "Kode 01.1" in output and "Kode T110" in output
    second_pass = output.split("== 4. A second pass: nothing left to write, no new problem ==")[1]
    lines = [line for line in second_pass.splitlines() if line.strip()]
    assert len(lines) == 5 and all("written    0   new problems   0" in line for line in lines)
    assert "known  344" in lines[2]
