"""The bad-input corpus (``tests/corpus/``): loading its cases and running them through the real
connectors against their sandboxes, one batch per flow, beside a clean control run.

For each flow: one small generated company, plus one distinct record of the flow's source per
case (clean). The control run syncs that clean company. A batch run starts from the same clean
company with the batch's cases applied (each to its own record only) and runs the flow once, then
once more with nothing changed. ``tests/corpus/README.md`` explains the case format.

Two vendor habits a plain JSON state cannot express are done by thin sandbox subclasses: the
24SevenOffice SOAP service writes XML-forbidden characters of stored text as character
references (``&#x1;``, as .NET's serializer does), and a JSON API may send a lone surrogate as
``\\ud800``. The state holds such a character as a private-use marker, and the subclass turns the
marker into the vendor's spelling in each answer.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import tomllib
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fjordsync.testing import people
from fjordsync_alexis.sandbox import DEFAULT_TOKEN, AlexisSandbox
from fjordsync_alexis.sandbox.generator import generate as generate_alexis
from fjordsync_smartdok.sandbox import DEFAULT_API_TOKEN, SmartDokSandbox
from fjordsync_smartdok.sandbox.generator import generate as generate_smartdok
from fjordsync_twentyfourseven.sandbox import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_CREDENTIALS,
    TwentyFourSevenSandbox,
)
from fjordsync_twentyfourseven.sandbox.generator import generate as generate_erp

from .conftest import erp_and_smartdok_config, hr_and_payroll_config

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
TODAY = date(2026, 11, 30)  # the generated companies' "today": the corpus's dates fit it
EMPLOYEES = 10
SEED = 11
PERIOD = ("2026-10-01", "2026-11-30")  # hours
ABSENCE_PERIOD = ("2026-01-01", "2026-12-31")
OUTCOMES = {"written", "unchanged", "invalid", "conflict", "failed", "skipped"}
FLOWS = ("projects", "employees", "hours", "payroll-employees", "absences")
CASE_KEYS = {
    "id",
    "flow",
    "collection",
    "side",
    "set",
    "set_json",
    "drop",
    "duplicate",
    "duplicate_set",
    "expect",
    "field",
    "mentions",
    "expect_key",
    "entity",
    "arrives",
    "batch",
    "personal",
    "note",
    "repeat",
}

# -- markers for characters a JSON state cannot carry to the wire as the vendor sends them ------
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKER = re.compile((_OPEN + r"([0-9a-f]{1,6})" + _CLOSE).encode())


def _xml_forbidden(char: str) -> bool:
    code = ord(char)
    return (
        (code < 0x20 and char not in "\t\n\r")
        or 0xD800 <= code <= 0xDFFF
        or code in (0xFFFE, 0xFFFF)
    )


def _marked(value: Any, forbidden) -> Any:
    if isinstance(value, str):
        return "".join(f"{_OPEN}{ord(c):x}{_CLOSE}" if forbidden(c) else c for c in value)
    if isinstance(value, list):
        return [_marked(v, forbidden) for v in value]
    if isinstance(value, dict):
        return {k: _marked(v, forbidden) for k, v in value.items()}
    return value


def _surrogate(char: str) -> bool:
    return 0xD800 <= ord(char) <= 0xDFFF


class CorpusERP(TwentyFourSevenSandbox):
    """24SevenOffice writing XML-forbidden characters of its data as ``&#x..;`` references."""

    def normalise_state(self, state):
        return super().normalise_state(_marked(state, _xml_forbidden))

    def handle(self, request):
        response = super().handle(request)
        if b"xml" in response.content_type.encode():
            response.body = _MARKER.sub(lambda m: b"&#x" + m.group(1) + b";", response.body)
        else:
            response.body = _MARKER.sub(lambda m: b"\\u" + m.group(1).rjust(4, b"0"), response.body)
        return response


class _JsonEscapes:
    def normalise_state(self, state):
        return super().normalise_state(_marked(state, _surrogate))

    def handle(self, request):
        response = super().handle(request)
        response.body = _MARKER.sub(lambda m: b"\\u" + m.group(1).rjust(4, b"0"), response.body)
        return response


class CorpusSmartDok(_JsonEscapes, SmartDokSandbox):
    """SmartDok sending a lone surrogate of its data as ``\\udXXX`` in JSON."""


class CorpusAlexis(_JsonEscapes, AlexisSandbox):
    """AlexisHR sending a lone surrogate of its data as ``\\udXXX`` in JSON."""


# -- cases ---------------------------------------------------------------------------------------
@dataclass
class Case:
    id: str
    file: str
    flow: str
    collection: str
    expect: str
    side: str = "source"
    set: dict[str, Any] = _field(default_factory=dict)
    drop: list[str] = _field(default_factory=list)
    duplicate: bool = False
    duplicate_set: dict[str, Any] = _field(default_factory=dict)
    field: str | None = None
    mentions: list[str] = _field(default_factory=list)
    expect_key: str | None = None
    entity: str | None = None
    arrives: dict[str, Any] = _field(default_factory=dict)
    batch: str = "main"
    personal: bool = False
    note: str = ""
    index: int = 0  # the case's own record in its flow: set by the flow

    def dirty_values(self) -> list[str]:
        """The values this case puts into records, as text (for "never names the value")."""
        values = []
        for value in [*self.set.values(), *self.duplicate_set.values()]:
            if isinstance(value, str) and len(value.strip()) >= 4:
                values.append(value)
            elif (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and abs(value) >= 1000
            ):
                values.append(str(value))
        return values


def _decode_json_values(table: dict[str, str], where: str) -> dict[str, Any]:
    decoded = {}
    for name, text in table.items():
        try:
            decoded[name] = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: set_json.{name}: not JSON: {exc}") from None
    return decoded


def load_cases(corpus: Path = CORPUS) -> list[Case]:
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in sorted(corpus.rglob("*.toml")):
        where = str(path.relative_to(corpus))
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        defaults = document.get("defaults", {})
        for number, raw in enumerate(document.get("case", [])):
            raw = {**defaults, **raw}
            unknown = set(raw) - CASE_KEYS
            if unknown:
                raise ValueError(f"{where}: case {number}: unknown keys {sorted(unknown)}")
            for required in ("id", "flow", "collection", "expect"):
                if required not in raw:
                    raise ValueError(f"{where}: case {number}: {required} is required")
            if raw["id"] in seen:
                raise ValueError(f"{where}: case id {raw['id']} is also in {seen[raw['id']]}")
            if raw["flow"] not in FLOWS or raw["expect"] not in OUTCOMES:
                raise ValueError(f"{where}: {raw['id']}: unknown flow or expect")
            seen[raw["id"]] = where
            values = dict(raw.get("set", {}))
            values.update(_decode_json_values(raw.pop("set_json", {}), f"{where}: {raw['id']}"))
            for name, (text, times) in raw.pop("repeat", {}).items():
                values[name] = text * times
            raw["set"] = values
            mentions = raw.get("mentions", [])
            raw["mentions"] = [mentions] if isinstance(mentions, str) else list(mentions)
            cases.append(Case(file=where, **raw))
    return cases


# -- paths into records --------------------------------------------------------------------------
def _step(container: Any, part: str) -> Any:
    return int(part) if isinstance(container, list) else part


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    here: Any = record
    for part in parts[:-1]:
        key = _step(here, part)
        if isinstance(here, dict) and not isinstance(here.get(key), dict | list):
            here[key] = {}
        here = here[key]
    here[_step(here, parts[-1])] = copy.deepcopy(value)


def drop_path(record: dict[str, Any], path: str) -> None:
    parts = path.split(".")
    here: Any = record
    for part in parts[:-1]:
        here = here[_step(here, part)]
    if isinstance(here, dict):
        here.pop(parts[-1], None)
    else:
        del here[int(parts[-1])]


# -- running the command -------------------------------------------------------------------------
ENV = {
    "TFSO_APP": DEFAULT_CREDENTIALS["ApplicationId"],
    "TFSO_PW": DEFAULT_CREDENTIALS["Password"],
    "SD_TOKEN": DEFAULT_API_TOKEN,
    "HR_TOKEN": DEFAULT_TOKEN,
    "PAYROLL_TOKEN": DEFAULT_ACCESS_TOKEN,
}


@dataclass
class RunResult:
    code: int
    document: dict[str, Any] | None
    stderr: str
    seconds: float

    @property
    def items(self) -> list[dict[str, Any]]:
        return (self.document or {}).get("items", [])

    def describe(self) -> str:
        if self.document is None:
            return f"exit {self.code}, no JSON document; stderr: {self.stderr.strip()[-600:]}"
        return (
            f"exit {self.code}, status {self.document.get('status')}, "
            f"counts {self.document.get('counts')}"
        )


def run_cli(config: Path, flow: str, *extra: str) -> RunResult:
    """``fjordsync run FLOW --json``: in this process through the command's own entry (fast: the
    connectors are imported once), or as a separate process with FJORDSYNC_CORPUS_SUBPROCESS=1."""
    args = ["run", flow, "--config", str(config), "--json", *extra]
    started = time.monotonic()
    if os.environ.get("FJORDSYNC_CORPUS_SUBPROCESS"):
        result = subprocess.run(
            [str(Path(sys.executable).parent / "fjordsync"), *args],
            capture_output=True,
            text=True,
            cwd=config.parent,
            env={**os.environ, "COLUMNS": "200", **ENV},
            timeout=180,
        )
        code, stdout, stderr = result.returncode, result.stdout, result.stderr
    else:
        from typer.testing import CliRunner

        from fjordsync.cli import app

        outcome = CliRunner().invoke(app, args, env={"COLUMNS": "200", **ENV})
        code, stdout = outcome.exit_code, outcome.stdout
        stderr = outcome.stderr if outcome.stderr_bytes is not None else ""
        if outcome.exception is not None and not isinstance(outcome.exception, SystemExit):
            stderr += f"\n{type(outcome.exception).__name__}: {outcome.exception}"
    try:
        document = json.loads(stdout)
    except json.JSONDecodeError:
        document = None
    return RunResult(code, document, stderr, time.monotonic() - started)


def erp_smartdok_config(erp_url: str, smartdok_url: str, ledger: Path) -> str:
    return erp_and_smartdok_config(erp_url, smartdok_url, ledger=ledger) + textwrap.dedent("""
        [tenants.acme.flows.projects]
        source = "erp"
        target = "time"
        [tenants.acme.flows.employees]
        source = "erp"
        target = "time"
        [tenants.acme.flows.hours]
        source = "time"
        target = "erp"
    """)


# -- the flows -----------------------------------------------------------------------------------
def _sd_stamp(day: date, hour: int = 8) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00Z"


def _hr_stamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00.000+00:00"


def _hex(prefix: str, number: int) -> str:
    return f"{prefix}{number:023x}"


# Fields a sandbox assigns or stamps by itself: not what the flow wrote.
VOLATILE = {
    "Id",
    "Created",
    "Updated",
    "CreatedDate",
    "LastActivityTime",
    "Password",
    "AccessLevelId",
    "_DateRegistered",
    "_DateChanged",
    "DateChanged",
    "serialNo",
    "requestDate",
}


def normalised(record: dict[str, Any] | None) -> dict[str, Any] | None:
    if record is None:
        return None
    return {k: v for k, v in record.items() if k not in VOLATILE}


class Flow:
    """One flow's company, the records its cases own, and how its target is looked up."""

    name: str
    source_name: str  # which sandbox the source is: "erp", "smartdok", "alexis"
    extra_args: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}  # case id -> the key of its own record

    # building
    def company(self) -> tuple[dict[str, Any], dict[str, Any]]:
        raise NotImplementedError

    def add_case_record(self, source, target, case: Case) -> str:
        raise NotImplementedError

    def records_of(self, source, target, case: Case) -> list[dict[str, Any]]:
        """The records the case's ``set`` applies to (usually one)."""
        raise NotImplementedError

    def duplicate(self, source, target, case: Case) -> None:
        raise NotImplementedError

    def target_record_for(self, target, case: Case) -> None:
        """Put a record for the case's key into the target (target-side cases)."""
        raise NotImplementedError

    # reading the outcome
    def target_view(self, target) -> dict[tuple[str, str], Any]:
        """(entity, key) -> what the target holds for it, without sandbox-stamped fields."""
        raise NotImplementedError

    def entity_of(self, case: Case) -> str:
        return case.entity or self.default_entity(case)

    def default_entity(self, case: Case) -> str:
        raise NotImplementedError

    def item_key(self, case: Case) -> str:
        if case.expect_key is not None:
            return case.expect_key
        return self.keys[case.id]

    # sandboxes
    def servers(self, stack: ExitStack, source, target, workdir: Path):
        raise NotImplementedError


def templated(value: Any, flow: Flow, case: Case) -> Any:
    """``{key}`` and ``{index}`` in a case's texts: its own record's key and number."""
    if isinstance(value, str) and ("{key}" in value or "{index}" in value):
        return value.replace("{key}", flow.keys[case.id]).replace("{index}", str(case.index))
    return value


def _apply_case(flow: Flow, source, target, case: Case) -> None:
    case.set = {k: templated(v, flow, case) for k, v in case.set.items()}
    case.duplicate_set = {k: templated(v, flow, case) for k, v in case.duplicate_set.items()}
    case.arrives = {k: templated(v, flow, case) for k, v in case.arrives.items()}
    case.mentions = [templated(m, flow, case) for m in case.mentions]
    if case.expect_key is not None:
        case.expect_key = templated(case.expect_key, flow, case)
    if case.side == "target":
        flow.target_record_for(target, case)
    for record in flow.records_of(source, target, case):
        for path in case.drop:
            drop_path(record, path)
        for path, value in case.set.items():
            set_path(record, path, value)
    if case.duplicate:
        flow.duplicate(source, target, case)


class _ErpSmartDok(Flow):
    def company(self):
        erp = generate_erp(employees=EMPLOYEES, seed=SEED, today=TODAY)
        smartdok = generate_smartdok(employees=EMPLOYEES, seed=SEED, today=TODAY)
        return erp, smartdok

    def servers(self, stack, erp, smartdok, workdir):
        erp_server = stack.enter_context(CorpusERP(erp))
        sd_server = stack.enter_context(CorpusSmartDok(smartdok))
        config = workdir / "fjordsync.toml"
        config.write_text(
            erp_smartdok_config(erp_server.url, sd_server.url, workdir / "ledger.db"),
            encoding="utf-8",
        )
        return erp_server, sd_server, config


class ProjectsFlow(_ErpSmartDok):
    name = "projects"
    source_name = "erp"

    def add_case_record(self, source, target, case):
        number = 3001 + case.index
        source["Project"].append(
            {
                "Id": number,
                "Name": f"Korpusprosjekt {case.index}",
                "NameDisplay": "Plain",
                "TimeReg": "WorkType",
                "CustomerName": "Fjordvik kommune",
                "Enabled": True,
                "DateChanged": "2026-11-01T08:00:00",
                "DateRegistered": "2026-01-05T08:00:00",
                "DateStart": "2026-01-05T00:00:00",
            }
        )
        return str(number)

    def _own(self, records, key):
        return [r for r in records if str(r.get("Id")) == key]

    def records_of(self, source, target, case):
        key = self.keys[case.id]
        if case.side == "target":
            return [p for p in target["Projects"] if str(p.get("ProjectNumber")).strip() == key]
        return self._own(source["Project"], key)

    def duplicate(self, source, target, case):
        key = self.keys[case.id]
        if case.side == "target":
            [record] = self.records_of(source, target, case)[:1]
            twin = {**copy.deepcopy(record), "Id": 9500 + case.index}
            target["Projects"].append(twin)
        else:
            [record] = self._own(source["Project"], key)[:1]
            twin = copy.deepcopy(record)
            source["Project"].append(twin)
        for path, value in case.duplicate_set.items():
            set_path(twin, path, value)

    def target_record_for(self, target, case):
        template = copy.deepcopy(target["Projects"][0])
        template.update(
            {
                "Id": 9000 + case.index,
                "ProjectNumber": self.keys[case.id],
                "ProjectName": f"Korpusprosjekt {case.index} (SmartDok)",
            }
        )
        target["Projects"].append(template)

    def target_view(self, target):
        view: dict[tuple[str, str], Any] = {}
        for project in target["Projects"]:
            key = ("project", str(project.get("ProjectNumber")).strip())
            view.setdefault(key, []).append(normalised(project))
        return view

    def default_entity(self, case):
        return "project"


class EmployeesFlow(_ErpSmartDok):
    name = "employees"
    source_name = "erp"

    def company(self):
        erp, smartdok = super().company()
        smartdok["LicenseInfo"] = {"AvailableLicenses": 400, "TotalLicenses": 500}
        return erp, smartdok

    def add_case_record(self, source, target, case):
        contact = 4001 + case.index
        source["PersonItem"].append(
            {
                "Id": contact,
                "EmployeeId": 501 + case.index,
                "FirstName": "Korpus",
                "LastName": f"Ansatt{case.index}",
                "EmailAddresses": {
                    "EmailAddress": [
                        {
                            "Type": "Primary",
                            "Value": f"korpus{case.index}@fjordbygg.no",
                            "Description": "",
                        }
                    ]
                },
                "PhoneNumbers": {
                    "PhoneNumber": [
                        {
                            "Type": "Mobile",
                            "Value": f"+47 410 00 {case.index:03d}",
                            "Description": "",
                        }
                    ]
                },
                "DateChanged": "2026-11-01T08:00:00",
                "Department": "",
                "Workplace": "",
                "WorkPosition": "",
            }
        )
        return str(contact)

    def records_of(self, source, target, case):
        key = self.keys[case.id]
        if case.side == "target":
            return [u for u in target["Users"] if str(u.get("EmployeeNo")) == key]
        return [p for p in source["PersonItem"] if str(p.get("Id")) == key]

    def duplicate(self, source, target, case):
        [record] = self.records_of(source, target, case)[:1]
        twin = copy.deepcopy(record)
        if case.side == "target":
            twin["Id"] = str(uuid.UUID(int=case.index + 1))
            twin["UserName"] = f"korpus-twin-{case.index}"
            target["Users"].append(twin)
        else:
            twin["EmployeeId"] = 901 + case.index
            source["PersonItem"].append(twin)
        for path, value in case.duplicate_set.items():
            set_path(twin, path, value)

    def target_record_for(self, target, case):
        template = copy.deepcopy(target["Users"][0])
        template.update(
            {
                "Id": str(uuid.UUID(int=10_000 + case.index)),
                "EmployeeNo": self.keys[case.id],
                "UserName": f"korpus-{case.index}",
                "Name": f"Korpus Ansatt{case.index}",
                "Email": f"korpus{case.index}@fjordbygg.no",
                "PhonePrefix": "47",
                "PhoneNumber": f"41000{case.index:03d}",
            }
        )
        target["Users"].append(template)

    def target_view(self, target):
        view: dict[tuple[str, str], Any] = {}
        for user in target["Users"]:
            view.setdefault(("employee", str(user.get("EmployeeNo"))), []).append(normalised(user))
        return view

    def default_entity(self, case):
        return "employee"


class HoursFlow(_ErpSmartDok):
    name = "hours"
    source_name = "smartdok"
    extra_args = ("--from", PERIOD[0], "--to", PERIOD[1])

    def company(self):
        erp, smartdok = super().company()
        start, end = (date.fromisoformat(d) for d in PERIOD)
        hours = [
            h for h in smartdok["WorkHours"] if start <= date.fromisoformat(h["Date"][:10]) <= end
        ]
        smartdok["WorkHours"] = hours[::6][:40]  # a few dozen: the corpus is about the others
        self.template = copy.deepcopy(
            next(
                h
                for h in smartdok["WorkHours"]
                if h["AdminAttested"] and not h["ExportedExternal"] and h["WageCode"] == "100"
            )
        )
        return smartdok, erp  # (source, target)

    def servers(self, stack, smartdok, erp, workdir):
        erp_server, sd_server, config = super().servers(stack, erp, smartdok, workdir)
        return sd_server, erp_server, config

    def add_case_record(self, source, target, case):
        hour_id = 7_000_001 + case.index
        workdays = [
            d for d in (date(2026, 11, 2) + timedelta(days=n) for n in range(26)) if d.weekday() < 5
        ]
        day = workdays[case.index % len(workdays)]
        record = copy.deepcopy(self.template)
        record.update(
            {
                "WorkHourID": hour_id,
                "EmployeeNo": str(2001 + case.index % EMPLOYEES),
                "Date": f"{day.isoformat()}T00:00:00Z",
                "OrdinaryHoursFrom": 7.0,
                "OrdinaryHoursTo": 15.0,
                "OrdinaryHours": 8.0,
                "BreakTime": 0.5,
                "NetHours": 7.5,
                "Comment": f"Korpus {case.index}",
                "AdminComment": "",
                "ForemanAttested": True,
                "ProjectAdminAttested": True,
                "AdminAttested": True,
                "Exported": False,
                "ExportedExternal": False,
                "ExportedExternalId": None,
                "LastUpdated": f"{day.isoformat()}T16:00:00Z",
            }
        )
        source["WorkHours"].append(record)
        return str(hour_id)

    def records_of(self, source, target, case):
        key = self.keys[case.id]
        if case.side == "target":
            return [h for h in target["Hour"] if h.get("InternalNote") == f"fjordsync:acme:{key}"]
        return [h for h in source["WorkHours"] if str(h.get("WorkHourID")) == key]

    def duplicate(self, source, target, case):
        [record] = self.records_of(source, target, case)[:1]
        twin = copy.deepcopy(record)
        if case.side == "target":
            twin["Id"] = 69_000 + case.index
            target["Hour"].append(twin)
        else:
            source["WorkHours"].append(twin)
        for path, value in case.duplicate_set.items():
            set_path(twin, path, value)

    def target_record_for(self, target, case):
        key = self.keys[case.id]
        target["Hour"].append(
            {
                "Id": 68_000 + case.index,
                "ContactId": 2001,
                "ProjectId": 1001,
                "TypeOfWorkId": int(self.template["WorkDescriptionCode"]),
                "SalaryTypeId": int(self.template["WageCode"]),
                "StartTime": "2026-11-02T06:00:00",
                "StopTime": "2026-11-02T14:00:00",
                "TotalHours": "7.5",
                "Description": f"Korpus {case.index}",
                "InternalNote": f"fjordsync:acme:{key}",
            }
        )

    def target_view(self, target):
        view: dict[tuple[str, str], Any] = {}
        for hour in target["Hour"]:
            note = str(hour.get("InternalNote") or "")
            key = note.removeprefix("fjordsync:acme:")
            view.setdefault(("hour", key), []).append(normalised(hour))
        return view

    def default_entity(self, case):
        return "hour"


class _HrPayroll(Flow):
    source_name = "alexis"

    def company(self):
        hr = generate_alexis(employees=EMPLOYEES, seed=SEED, today=TODAY)
        erp = generate_erp(employees=EMPLOYEES, seed=SEED, today=TODAY)
        payroll = {k: v for k, v in erp.items() if k.startswith("payroll/")}
        return hr, payroll

    def servers(self, stack, hr, payroll, workdir):
        hr_server = stack.enter_context(CorpusAlexis(hr))
        erp_server = stack.enter_context(CorpusERP(payroll))
        config = workdir / "fjordsync.toml"
        config.write_text(
            hr_and_payroll_config(hr_server.url, erp_server.url, ledger=workdir / "ledger.db"),
            encoding="utf-8",
        )
        return hr_server, erp_server, config


def _permanent_type(hr) -> str:
    return next(t["id"] for t in hr["employment-type"] if t["name"] == "Permanent")


class PayrollEmployeesFlow(_HrPayroll):
    name = "payroll-employees"

    def add_case_record(self, source, target, case):
        n = case.index
        rng = random.Random(1000 + n)
        born = date(1970, 1, 1) + timedelta(days=97 * (n % 120))
        account = people.kontonummer(rng)
        number = str(5001 + n)
        employee_id, employment_id, compensation_id = (_hex(p, n) for p in "abc")
        source["employee"].append(
            {
                "id": employee_id,
                "companyId": source["employee"][0]["companyId"],
                "userId": _hex("d", n),
                "active": True,
                "employeeNumber": number,
                "title": "",
                "firstName": "Korpus",
                "lastName": f"Ansatt{n}",
                "ssn": people.national_id(rng, born),
                "birthDate": _hr_stamp(born),
                "nationality": "NO",
                "privateEmail": f"korpus{n}@gmail.com",
                "workEmail": f"korpus{n}@fjordbygg.no",
                "workPhone": f"+47 410 00 {n:03d}",
                "privatePhone": f"+47 410 00 {n:03d}",
                "employmentCountry": "NO",
                "hireDate": _hr_stamp(date(2024, 1, 1)),
                "homeAddress": {
                    "street": f"Korpusveien {n + 1}",
                    "postalCode": "0150",
                    "city": "Oslo",
                    "country": "NO",
                },
                "bankAccount": {
                    "bank": "",
                    "clearing": "",
                    "number": account,
                    "iban": "",
                    "bic": "DNBANOKK",
                    "country": "NO",
                },
                "created": _hr_stamp(date(2024, 1, 1)),
                "updated": _hr_stamp(date(2026, 11, 1)),
                "employmentId": employment_id,
                "employmentTypeId": _permanent_type(source),
                "compensationId": compensation_id,
            }
        )
        source["employment"].append(
            {
                "id": employment_id,
                "companyId": source["employee"][0]["companyId"],
                "employeeId": employee_id,
                "typeId": _permanent_type(source),
                "startDate": _hr_stamp(date(2024, 1, 1)),
                "terminated": False,
                "rate": 100,
                "country": "NO",
                "updated": _hr_stamp(date(2026, 11, 1)),
                "note": "7112101",
            }
        )
        source["compensation"].append(
            {
                "id": compensation_id,
                "employeeId": employee_id,
                "companyId": source["employee"][0]["companyId"],
                "amount": 50000,
                "baseAmount": 50000,
                "exchangeRate": 1,
                "currency": "NOK",
                "effectiveDate": _hr_stamp(date(2026, 1, 1)),
                "payoutDay": 25,
                "payoutPeriod": "MONTHLY",
                "payoutFrequency": "MONTH",
                "salarySchedule": "ADVANCE",
                "paidOvertime": False,
                "note": "",
            }
        )
        return number

    def records_of(self, source, target, case):
        n = case.index
        if case.side == "target":
            key = self.keys[case.id]
            collection = case.collection
            return [r for r in target[collection] if str(r.get("empId")) == key]
        own = {"employee": _hex("a", n), "employment": _hex("b", n), "compensation": _hex("c", n)}
        return [r for r in source[case.collection] if r.get("id") == own[case.collection]]

    def duplicate(self, source, target, case):
        [record] = self.records_of(source, target, case)[:1]
        twin = copy.deepcopy(record)
        if case.side == "target":
            target[case.collection].append(twin)
        elif case.collection == "employee":
            # another person (own id, employment and compensation) with the same number
            n = case.index
            twin["id"] = _hex("e", n)
            twin["firstName"] = "Tvilling"
            for kind, prefix, new in (("employment", "b", "f"), ("compensation", "c", "9")):
                [own] = [r for r in source[kind] if r["id"] == _hex(prefix, n)]
                source[kind].append(
                    {**copy.deepcopy(own), "id": _hex(new, n), "employeeId": twin["id"]}
                )
            twin["employmentId"], twin["compensationId"] = _hex("f", n), _hex("9", n)
            source["employee"].append(twin)
        else:  # the same id unless the case gives the copy its own
            source[case.collection].append(twin)
        for path, value in case.duplicate_set.items():
            set_path(twin, path, value)

    def target_record_for(self, target, case):
        key = self.keys[case.id]
        if case.collection == "payroll/employee":
            record = copy.deepcopy(target["payroll/employee"][0])
            record.update({"empId": key, "firstname": "Korpus", "lastname": f"Ansatt{case.index}"})
        else:
            record = copy.deepcopy(target["payroll/employment"][0])
            record.update({"empId": key, "employment_id": f"{key}-1"})
        target[case.collection].append(record)

    def target_view(self, target):
        view: dict[tuple[str, str], Any] = {}
        for employee in target["payroll/employee"]:
            view.setdefault(("employee", str(employee.get("empId"))), []).append(
                normalised(employee)
            )
        for employment in target["payroll/employment"]:
            view.setdefault(("employment", str(employment.get("empId"))), []).append(
                normalised(employment)
            )
        return view

    def default_entity(self, case):
        return (
            "employment" if case.collection in ("employment", "payroll/employment") else "employee"
        )

    def item_key(self, case):
        if case.expect_key is not None:
            return case.expect_key
        key = self.keys[case.id]
        if self.entity_of(case) == "employment" and case.side == "source":
            return f"{key}/{_hex('b', case.index)}"
        return key

    def view_key(self, case):
        return (self.entity_of(case), self.keys[case.id])


class AbsencesFlow(_HrPayroll):
    name = "absences"
    extra_args = ("--from", ABSENCE_PERIOD[0], "--to", ABSENCE_PERIOD[1])
    EMPLOYEE_NUMBER = "4999"

    def company(self):
        hr, payroll = super().company()
        holder = PayrollEmployeesFlow()
        fake = Case(
            id="absence-holder",
            file="",
            flow="payroll-employees",
            collection="employee",
            expect="written",
            index=998,
        )
        holder.add_case_record(hr, payroll, fake)
        [employee] = [e for e in hr["employee"] if e["id"] == _hex("a", 998)]
        employee["employeeNumber"] = self.EMPLOYEE_NUMBER
        self.employee_id = employee["id"]
        self.vacation = next(t["id"] for t in hr["leave-type"] if t["name"] == "Ferie")
        return hr, payroll

    def prepare_target(self, hr, payroll, workdir: Path) -> dict[str, Any]:
        """Payroll after a clean payroll-employees run: the employees the absences belong to."""
        with ExitStack() as stack:
            _, erp_server, config = self.servers(stack, hr, payroll, workdir)
            result = run_cli(config, "payroll-employees")
            if result.document is None:
                raise RuntimeError(f"payroll-employees before absences: {result.describe()}")
            return copy.deepcopy(erp_server.state)

    def add_case_record(self, source, target, case):
        n = case.index
        start = date(2026, 1, 5) + timedelta(weeks=n)
        leave_id = _hex("7", n)
        source["leave"].append(
            {
                "id": leave_id,
                "employeeId": self.employee_id,
                "typeId": self.vacation,
                "status": "APPROVED",
                "duration": "longer",
                "startDate": _hr_stamp(start),
                "endDate": _hr_stamp(start + timedelta(days=2)),
                "description": "",
            }
        )
        return leave_id

    def records_of(self, source, target, case):
        key = self.keys[case.id]
        if case.side == "target":
            return [a for a in target["payroll/absence"] if a.get("externalId") == key]
        return [r for r in source[case.collection] if r.get("id") == key]

    def duplicate(self, source, target, case):
        [record] = self.records_of(source, target, case)[:1]
        twin = copy.deepcopy(record)
        (target["payroll/absence"] if case.side == "target" else source["leave"]).append(twin)
        for path, value in case.duplicate_set.items():
            set_path(twin, path, value)

    def target_record_for(self, target, case):
        key = self.keys[case.id]
        start = date(2026, 1, 5) + timedelta(weeks=case.index)
        target["payroll/absence"].append(
            {
                "serialNo": str(80_000 + case.index),
                "empId": self.EMPLOYEE_NUMBER,
                "absenceType": "04",
                "startDate": f"{start.isoformat()} 00:00:00",
                "endDate": f"{(start + timedelta(days=2)).isoformat()} 00:00:00",
                "numberOfDays": "3",
                "percent": "100",
                "externalId": key,
            }
        )

    def target_view(self, target):
        view: dict[tuple[str, str], Any] = {}
        for absence in target["payroll/absence"]:
            view.setdefault(("absence", str(absence.get("externalId"))), []).append(
                normalised(absence)
            )
        return view

    def default_entity(self, case):
        return "absence"


FLOW_TYPES = {
    "projects": ProjectsFlow,
    "employees": EmployeesFlow,
    "hours": HoursFlow,
    "payroll-employees": PayrollEmployeesFlow,
    "absences": AbsencesFlow,
}


# -- one flow's runs -----------------------------------------------------------------------------
@dataclass
class BatchRun:
    name: str
    cases: list[Case]
    initial_target: dict[str, Any]
    first: RunResult
    second: RunResult
    after_first: dict[str, Any]  # target state
    after_second: dict[str, Any]
    writes_first: int
    writes_second: int


@dataclass
class FlowRuns:
    flow: Flow
    control: RunResult
    control_target: dict[str, Any]
    initial_target: dict[str, Any]
    batches: dict[str, BatchRun]
    seconds: float


def _target_writes(server) -> int:
    return sum(server.writes.values())


def _run_once_and_again(flow: Flow, source, target, workdir: Path):
    with ExitStack() as stack:
        _, target_server, config = flow.servers(stack, source, target, workdir)
        before = _target_writes(target_server)
        first = run_cli(config, flow.name, *flow.extra_args)
        after_first = copy.deepcopy(target_server.state)
        writes_first = _target_writes(target_server) - before
        second = run_cli(config, flow.name, *flow.extra_args)
        after_second = copy.deepcopy(target_server.state)
        writes_second = _target_writes(target_server) - before - writes_first
    return first, second, after_first, after_second, writes_first, writes_second


def run_flow(flow_name: str, cases: list[Case], workdir: Path) -> FlowRuns:
    started = time.monotonic()
    flow = FLOW_TYPES[flow_name]()
    source, target = flow.company()
    for index, case in enumerate(cases):
        case.index = index
        flow.keys[case.id] = flow.add_case_record(source, target, case)
    if isinstance(flow, AbsencesFlow):
        target = flow.prepare_target(copy.deepcopy(source), target, _fresh(workdir, "prepare"))
    control_source, control_target = copy.deepcopy(source), copy.deepcopy(target)
    with ExitStack() as stack:
        _, target_server, config = flow.servers(
            stack, control_source, control_target, _fresh(workdir, "control")
        )
        control = run_cli(config, flow.name, *flow.extra_args)
        control_end = copy.deepcopy(target_server.state)
    batches = {}
    for batch in sorted({c.batch for c in cases}):
        members = [c for c in cases if c.batch == batch]
        dirty_source, dirty_target = copy.deepcopy(source), copy.deepcopy(target)
        for case in members:
            _apply_case(flow, dirty_source, dirty_target, case)
        initial = copy.deepcopy(dirty_target)
        results = _run_once_and_again(
            flow, dirty_source, dirty_target, _fresh(workdir, f"batch-{batch}")
        )
        batches[batch] = BatchRun(batch, members, initial, *results)
    return FlowRuns(flow, control, control_end, target, batches, time.monotonic() - started)


def _fresh(workdir: Path, name: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=workdir))
    return path


# -- judging -------------------------------------------------------------------------------------
def items_for(result: RunResult, entity: str, key: str) -> list[dict[str, Any]]:
    return [i for i in result.items if i.get("entity") == entity and str(i.get("key")) == key]


def case_problems(runs: FlowRuns, case: Case) -> list[str]:
    """Everything wrong with one case's outcome; empty when it ended as the corpus says."""
    flow, batch = runs.flow, runs.batches[case.batch]
    first = batch.first
    if first.document is None:
        return [f"the batch run gave no result: {first.describe()}"]
    entity, key = flow.entity_of(case), flow.item_key(case)
    if key == "*":
        return _keyless_problems(runs, batch, case, entity)
    found = items_for(first, entity, key)
    if not found:
        others = Counter(i.get("outcome") for i in first.items)
        return [f"no item for {entity} {key!r} (run: {first.describe()}; outcomes {dict(others)})"]
    problems = []
    for item in found:
        outcome, message = item.get("outcome"), item.get("message") or ""
        seen = f"{outcome}: {message!r}"
        if outcome != case.expect:
            problems.append(f"expected {case.expect}, got {seen}")
            continue
        if case.expect in ("invalid", "conflict", "failed") and not message.strip():
            problems.append(f"{case.expect} without a message")
        if case.field and case.field.lower() not in message.lower():
            problems.append(f"the message does not name the field {case.field!r}: {seen}")
        for text in case.mentions:
            if text.lower() not in message.lower():
                problems.append(f"the message does not mention {text!r}: {seen}")
        if case.personal:
            for value in case.dirty_values():
                if value in message or value in json.dumps(item, ensure_ascii=False):
                    problems.append("the message shows the personal value itself")
    if case.duplicate and case.side == "source" and case.expect == "conflict" and len(found) > 1:
        pass  # each record sharing the key has its own item: all were checked above
    view_key = (entity, flow.keys[case.id])
    if case.expect == "written":
        held = flow.target_view(batch.after_first).get(view_key) or []
        if len(held) != 1:
            problems.append(f"the target holds {len(held)} records for {view_key}, not one")
        else:
            for path, expected in case.arrives.items():
                expected = _expected_value(case, expected)
                value = _get_path(held[0], path)
                if value != expected:
                    problems.append(f"{path} arrived as {value!r}, expected {expected!r}")
    elif case.expect in ("invalid", "conflict", "failed", "skipped"):
        before = flow.target_view(batch.initial_target).get(view_key)
        after = flow.target_view(batch.after_first).get(view_key)
        if before != after:
            problems.append(f"the target's record changed although the outcome is {case.expect}")
    problems += _second_run_problems(flow, batch, case, entity, key)
    return problems


def known_keys(runs: FlowRuns) -> set[str]:
    keys = set(runs.flow.keys.values())
    keys |= {str(i.get("key")) for i in runs.control.items}
    return keys


def unknown_items(runs: FlowRuns, result: RunResult, entity: str) -> list[dict[str, Any]]:
    """Items named by no record's key: those of records whose key could not be read."""
    known = known_keys(runs)
    return [
        i
        for i in result.items
        if i.get("entity") == entity and str(i.get("key")).split("/")[0] not in known
    ]


def _keyless_problems(runs, batch, case, entity) -> list[str]:
    """A case whose record has no readable key: some item no key names must carry its outcome
    and name the field."""
    candidates = unknown_items(runs, batch.first, entity)
    for item in candidates:
        message = item.get("message") or ""
        if item.get("outcome") == case.expect and (
            not case.field or case.field.lower() in message.lower()
        ):
            return []
    seen = [f"{i.get('key')!r} {i.get('outcome')}: {i.get('message')!r}" for i in candidates]
    return [
        f"no {case.expect} item naming {case.field!r} among the items no key names "
        f"({'; '.join(seen) or 'none'}; run: {batch.first.describe()})"
    ]


def _expected_value(case: Case, expected: Any) -> Any:
    """``"=set:FIELD"`` is the value the case set on FIELD; ``"=set:FIELD:N"`` its first N."""
    if isinstance(expected, str) and expected.startswith("=set:"):
        name, _, length = expected.removeprefix("=set:").partition(":")
        value = case.set[name]
        return value[: int(length)] if length else value
    return expected


def _get_path(record: Any, path: str) -> Any:
    here = record
    for part in path.split("."):
        try:
            here = here[int(part)] if isinstance(here, list) else here[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return "<absent>"
    return here


def _second_run_problems(flow, batch, case, entity, key) -> list[str]:
    second = batch.second
    if second.document is None:
        return [f"the second run gave no result: {second.describe()}"]
    again = items_for(second, entity, key)
    outcomes = {i.get("outcome") for i in again}
    if case.expect in ("written", "unchanged") and outcomes - {"unchanged"}:
        return [f"the second run gave {sorted(outcomes)} for it, not unchanged"]
    if case.expect in ("invalid", "conflict") and outcomes != {case.expect}:
        return [f"the second run gave {sorted(outcomes)} for it, not {case.expect} again"]
    return []


def untouched_problems(runs: FlowRuns, batch_name: str) -> list[str]:
    """Records no case of the batch touched: outcome and target record as in the control run."""
    flow, batch = runs.flow, runs.batches[batch_name]
    if runs.control.document is None:
        return [f"the control run gave no result: {runs.control.describe()}"]
    if batch.first.document is None:
        return [f"the batch run gave no result: {batch.first.describe()}"]
    touched = {(flow.entity_of(c), flow.keys[c.id]) for c in batch.cases}
    touched |= {(flow.entity_of(c), flow.item_key(c)) for c in batch.cases}
    if isinstance(flow, PayrollEmployeesFlow):  # an employee's case touches its employment too
        numbers = {flow.keys[c.id] for c in batch.cases}
        touched |= {(e, k) for e, k in _item_keys(runs.control) if k.split("/")[0] in numbers}
        touched |= {(e, k) for e, k in _item_keys(batch.first) if k.split("/")[0] in numbers}
    problems = []
    control_items = _outcomes(runs.control)
    batch_items = _outcomes(batch.first)
    for ident, outcome in sorted(control_items.items()):
        if ident in touched:
            continue
        if batch_items.get(ident) != outcome:
            problems.append(
                f"{ident}: {batch_items.get(ident)} in the batch, {outcome} in the control run"
            )
    extra = set(batch_items) - set(control_items) - touched
    unexplained = [i for i in sorted(extra) if not _belongs_to_key_cases(batch, i)]
    if any(c.expect_key == "*" for c in batch.cases):
        unexplained = [i for i in unexplained if i[1].split("/")[0] in known_keys(runs)]
    problems += [f"{ident}: an item the control run does not have" for ident in unexplained]
    control_view = flow.target_view(runs.control_target)
    batch_view = flow.target_view(batch.after_first)
    for ident in sorted(set(control_view) | set(batch_view)):
        if ident in touched or _by_number(flow, ident, batch):
            continue
        if control_view.get(ident) != batch_view.get(ident):
            problems.append(
                f"target {ident}: {batch_view.get(ident)} in the batch, "
                f"{control_view.get(ident)} in the control run"
            )
    return problems


def _by_number(flow, ident, batch) -> bool:
    if not isinstance(flow, PayrollEmployeesFlow):
        return False
    return ident[1] in {flow.keys[c.id] for c in batch.cases}


def _belongs_to_key_cases(batch: BatchRun, ident) -> bool:
    return any(c.expect_key is not None and ident[1] == c.expect_key for c in batch.cases)


def _item_keys(result: RunResult) -> set[tuple[str, str]]:
    return {(i.get("entity"), str(i.get("key"))) for i in result.items}


def _outcomes(result: RunResult) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for item in result.items:
        found[(item.get("entity"), str(item.get("key")))] = item.get("outcome")
    return found


def second_run_problems(runs: FlowRuns, batch_name: str) -> list[str]:
    """A second run right after: nothing more written, valid records unchanged."""
    batch = runs.batches[batch_name]
    if batch.second.document is None:
        return [f"the second run gave no result: {batch.second.describe()}"]
    problems = []
    if batch.writes_second:
        problems.append(f"{batch.writes_second} write request(s) in the second run")
    for item in batch.second.items:
        if item.get("outcome") == "written":
            problems.append(f"{item.get('entity')} {item.get('key')} written again")
    if runs.flow.target_view(batch.after_first) != runs.flow.target_view(batch.after_second):
        problems.append("the target changed in the second run")
    return problems
