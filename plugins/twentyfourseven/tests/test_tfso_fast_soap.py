"""The ERP client's fast path (erp/fastsoap.py) sends the envelope zeep would send from the
shipped WSDL and reads answers as zeep would, else it leaves both to zeep."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from tfso_fixtures import soap_settings
from zeep import Client
from zeep.helpers import serialize_object

from fjordsync.domain.model import TimeEntry
from fjordsync.domain.values import DateRange
from fjordsync.ports import Query
from fjordsync_twentyfourseven.erp import client as erp_client
from fjordsync_twentyfourseven.erp import fastsoap
from fjordsync_twentyfourseven.erp.adapter import TwentyFourSevenAdapter
from fjordsync_twentyfourseven.erp.client import TNS, WSDL_DIR, SoapClient, clean_xml

OPTIONS = {"address": "http://127.0.0.1:1/timesheet/v001/timeservice.asmx"}
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture(scope="module")
def time_service():
    client = Client(str(WSDL_DIR / "timeService.wsdl"))
    return client, client.wsdl.bindings[f"{{{TNS}}}TimeServiceSoap"]


def c14n(envelope) -> bytes:
    return etree.tostring(envelope, method="c14n")


# XML text of every kind the adapter may send: markup characters, CR, tabs, spaces at the ends,
# letters beyond Latin-1 and beyond the BMP (carriable_text has removed what XML forbids).
xml_text = st.lists(
    st.text(
        st.characters(
            blacklist_categories=("Cs",),
            blacklist_characters="".join(map(chr, [*range(0x9), 0xB, 0xC, *range(0xE, 0x20)]))
            + "\ufffe\uffff",
        ),
        max_size=10,
    )
    | st.sampled_from(["&", "<", ">", "]]>", "\r", "\r\n", " ", "\t", '"', "'", "ø", "😀"]),
    max_size=5,
).map("".join)
int32 = st.integers(-(2**31), 2**31 - 1)
moment = st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S"))
hour = st.fixed_dictionaries(
    {
        "ContactId": int32,
        "ProjectId": int32,
        "TotalHours": st.decimals(allow_nan=False, allow_infinity=False, places=2),
        "Description": xml_text,
        "InternalNote": xml_text,
    },
    optional={
        "Id": st.integers(-(2**63), 2**63 - 1) | st.none(),
        "TypeOfWorkId": int32,
        "SalaryTypeId": int32,
        "StartTime": moment,
        "StopTime": moment,
        "NeedApproval": st.booleans(),
    },
)
search = st.fixed_dictionaries(
    {},
    optional={
        "ContactId": int32,
        "StartTime": moment,
        "StopTime": moment,
        "ChangedAfter": moment,
        "RegisteredAfter": moment,
    },
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=hour)
def test_save_hour_envelope_is_zeeps_byte_for_byte(time_service, body):
    client, binding = time_service
    request = fastsoap.Request.of(binding, "SaveHour", client, OPTIONS)
    zeeps, headers = binding._create("SaveHour", (), {"Hour": body}, client=client, options=OPTIONS)
    ours = request.build({"Hour": body})
    assert ours is not None
    assert c14n(ours) == c14n(zeeps)
    assert request.headers == headers


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hs=search)
def test_get_hours_envelope_is_zeeps_byte_for_byte(time_service, hs):
    client, binding = time_service
    request = fastsoap.Request.of(binding, "GetHours", client, OPTIONS)
    zeeps, _ = binding._create("GetHours", (), {"hs": hs}, client=client, options=OPTIONS)
    assert c14n(request.build({"hs": hs})) == c14n(zeeps)


def test_what_the_fast_path_does_not_take_is_left_to_zeep(time_service):
    client, binding = time_service
    request = fastsoap.Request.of(binding, "SaveHour", client, OPTIONS)
    assert request.build({"Hour": {"Description": "a\x00b"}}) is None  # lxml refuses a NUL
    assert request.build({"Hour": {"Colour": "red"}}) is None  # not in the schema
    assert request.build({"Hour": {"ContactId": 1.5}}) is None  # a float: zeep's to render
    assert request.build({"Hour": {"StartTime": date(2026, 1, 1)}}) is None
    assert request.build({"Hour": {"ContactId": 1}}) is not None


# -- answers ------------------------------------------------------------------------------------
# Each element of an Hour as 24SevenOffice may send it: a value of its type, or text that is
# not one (zeep's reading gives UNREADABLE for it in our calls).
FIELD_VALUES = {
    "Id": st.integers(-(2**63), 2**63 - 1).map(str) | st.just("12x"),
    "TypeOfWorkId": int32.map(str) | st.sampled_from([" 10 ", "ten", ""]),
    "StartTime": moment | st.sampled_from(["2026-13-40T00:00:00", "2026-11-02T07:00:00+01:00"]),
    "StopTime": moment | st.just("soon"),
    "TotalHours": st.decimals(allow_nan=False, allow_infinity=False).map(str)
    | st.sampled_from(["7,5", "NaN", " 7.5\n"]),
    "ContactId": int32.map(str),
    "Description": xml_text | st.just("bad \x01 &#x1; text"),
    "Locked": st.sampled_from(["none", "true", "false", "odd"]),
    "NeedApproval": st.sampled_from(["true", "false", "1", "yes"]),
    "InternalNote": xml_text,
}
answer_hour = st.fixed_dictionaries({}, optional=FIELD_VALUES)
ORDER = [
    "Id",
    "TypeOfWorkId",
    "StartTime",
    "StopTime",
    "TotalHours",
    "ContactId",
    "Description",
    "Locked",
    "NeedApproval",
    "InternalNote",
]


def get_hours_answer(hours: list[dict[str, str]]) -> bytes:
    def escaped(text: str) -> str:
        return (
            text.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace("\r", "&#13;")
        )

    items = "".join(
        "<Hour>"
        + "".join(f"<{name}>{escaped(values[name])}</{name}>" for name in ORDER if name in values)
        + "</Hour>"
        for values in hours
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP}">'
        f'<soap:Body><GetHoursResponse xmlns="{TNS}"><GetHoursResult>{items}'
        "</GetHoursResult></GetHoursResponse></soap:Body></soap:Envelope>"
    ).encode()


class Answer:
    status_code = 200
    encoding = "utf-8"

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.headers = {"Content-Type": "text/xml; charset=utf-8"}


def zeeps_reading(client, binding, operation: str, content: bytes):
    """What the client got before the fast path: zeep's reply in one of our calls (so a value
    that is not of its type is UNREADABLE), as plain data."""
    token = erp_client._CALL.set(erp_client._Call())
    try:
        return serialize_object(
            binding.process_reply(client, binding.get(operation), Answer(content))
        )
    finally:
        erp_client._CALL.reset(token)


def plain(value):
    """Dicts of either kind alike; repr then compares NaN and UNREADABLE exactly."""
    if isinstance(value, OrderedDict | dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hours=st.lists(answer_hour, max_size=4))
def test_get_hours_answers_read_as_zeep_reads_them(time_service, hours):
    client, binding = time_service
    content = clean_xml(get_hours_answer(hours))
    read, ours = fastsoap.read(content, fastsoap.output_shape(binding.get("GetHours")))
    assert read
    assert repr(plain(ours)) == repr(plain(zeeps_reading(client, binding, "GetHours", content)))


@pytest.mark.parametrize(
    "body",
    [
        # a fault
        f'<soap:Fault xmlns:soap="{SOAP}"><faultcode>soap:Server</faultcode>'
        "<faultstring>x</faultstring></soap:Fault>",
        # an attribute zeep would read (xsi:nil)
        f'<SaveHourResponse xmlns="{TNS}"><SaveHourResult '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>'
        "</SaveHourResponse>",
        # an element the schema does not have
        f'<SaveHourResponse xmlns="{TNS}"><SaveHourResult>5</SaveHourResult><Extra/>'
        "</SaveHourResponse>",
        # another operation's answer
        f'<GetHoursResponse xmlns="{TNS}"/>',
    ],
)
def test_answers_of_another_shape_are_left_to_zeep(time_service, body):
    _, binding = time_service
    content = (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body>{body}</soap:Body></soap:Envelope>'
    ).encode()
    assert fastsoap.read(content, fastsoap.output_shape(binding.get("SaveHour"))) == (False, None)


def test_save_hour_answer_is_the_id(time_service):
    client, binding = time_service
    content = (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><SaveHourResponse xmlns="{TNS}">'
        "<SaveHourResult>4711</SaveHourResult></SaveHourResponse></soap:Body></soap:Envelope>"
    ).encode()
    assert fastsoap.read(content, fastsoap.output_shape(binding.get("SaveHour"))) == (True, 4711)
    assert zeeps_reading(client, binding, "SaveHour", content) == 4711


# -- end to end: the adapter reads the same through either path ----------------------------------
async def read_everything(url: str):
    adapter = TwentyFourSevenAdapter(SoapClient(**soap_settings(url)))
    try:
        return (
            await adapter.read_projects(Query()),
            await adapter.read_employees(Query()),
            await adapter.read_codes("work_types"),
            await adapter.read_codes("salary_types"),
            await adapter.read_time_entries(
                Query(period=DateRange(date(2000, 1, 1), date(2100, 1, 1)))
            ),
        )
    finally:
        await adapter.aclose()


async def save_hours(url: str) -> list[str]:
    adapter = TwentyFourSevenAdapter(SoapClient(**soap_settings(url)))
    try:
        return [
            await adapter.save_time_entry(
                TimeEntry(
                    key=f"sd-{n}",
                    employee_key="2001",
                    project_key="1001",
                    day=date(2026, 11, 2),
                    hours=Decimal("7.5"),
                    work_type_code="10",
                    salary_type_code="100",
                    start=datetime(2026, 11, 2, 6, tzinfo=UTC) if n else None,
                    stop=datetime(2026, 11, 2, 14, tzinfo=UTC) if n else None,
                    comment=comment,
                ),
                f"fjordsync:t:sd-{n}",
            )
            for n, comment in enumerate(["Forskaling & <støp> ]]>\r\n", "\x01bad\x00", None])
        ]
    finally:
        await adapter.aclose()


def test_the_adapter_reads_the_same_with_and_without_the_fast_path(sandbox, monkeypatch):
    saved = asyncio.run(save_hours(sandbox.url))
    assert len(set(saved)) == 3  # each SaveHour answered its new hour's Id
    erp_client._BUDGETS.clear()
    fast = asyncio.run(read_everything(sandbox.url))
    erp_client._BUDGETS.clear()
    monkeypatch.setattr(fastsoap.Request, "of", classmethod(lambda *args: None))
    monkeypatch.setattr(fastsoap, "read", lambda content, expected: (False, None))
    zeeps = asyncio.run(read_everything(sandbox.url))
    assert fast == zeeps
    assert all(fast)  # the small company has something of each
    assert sorted(e.target_key for e in fast[-1]) == sorted(saved)
    assert {e.comment for e in fast[-1]} == {"Forskaling & <støp> ]]>\r\n", "bad", None}
