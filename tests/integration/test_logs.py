"""Logging: credentials and personal numbers are masked in every record, httpx's included; the
log file is private; --log-level, --log-file and FJORDSYNC_LOG_LEVEL."""

import io
import logging
import os
import stat

import httpx
import pytest

from fjordsync import logs
from fjordsync.testing.sandbox import Response, Sandbox

from .conftest import fjordsync


@pytest.fixture
def captured():
    """A logger whose one handler redacts, writing into a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logs.install_redaction(handler)
    logger = logging.getLogger("test_logs.captured")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


@pytest.fixture
def configured(tmp_path):
    """The CLI's logging, to a file, undone afterwards."""
    root = logging.getLogger()
    level = root.level
    path = tmp_path / "logs" / "fjordsync.log"
    logs.configure("DEBUG", path)
    yield path
    logs.reset()
    root.setLevel(level)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'HTTP Request: GET http://127.0.0.1:5/api/auth?token=tok-4711 "HTTP/1.1 200 OK"',
            'HTTP Request: GET http://127.0.0.1:5/api/auth?token=*** "HTTP/1.1 200 OK"',
        ),
        ("GET /x?a=1&access_token=abc.def&b=2", "GET /x?a=1&access_token=***&b=2"),
        ("GET /x?apikey=k1k1k1&key=k2k2k2", "GET /x?apikey=***&key=***"),
        ("login with password=hunter2 failed", "login with password=*** failed"),
        ("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: ***"),
        (
            "headers {'authorization': 'Basic dXNlcjpwYXNz', 'accept': '*/*'}",
            "headers {'authorization': '***', 'accept': '*/*'}",
        ),
        ("Cookie: ASP.NET_SessionId=s3ss10n; other=1", "Cookie: ***"),
        (
            "receive_response_headers.complete return_value=(b'HTTP/1.1', 200, b'OK', "
            "[(b'Set-Cookie', b'ASP.NET_SessionId=s3ss10n; path=/'), (b'Content-Length', b'9')])",
            "receive_response_headers.complete return_value=(b'HTTP/1.1', 200, b'OK', "
            "[(b'Set-Cookie', b'***'), (b'Content-Length', b'9')])",
        ),
        ("session ASP.NET_SessionId=s3ss10n; path=/", "session ASP.NET_SessionId=***; path=/"),
        ("sent with bearer abc123def456", "sent with bearer ***"),
        (
            "<soap:Body><Login><credential><ApplicationId>0f1e-22</ApplicationId>"
            "<Username>api@acme.no</Username><Password>pw!</Password></credential></Login>",
            "<soap:Body><Login><credential><ApplicationId>***</ApplicationId>"
            "<Username>api@acme.no</Username><Password>***</Password></credential></Login>",
        ),
        (
            "<tns:applicationId>0f1e</tns:applicationId>",
            "<tns:applicationId>***</tns:applicationId>",
        ),
        (
            '{"token": "t\\"ok", "expiresOn": "2026-01-01", "password": "p"}',
            '{"token": "***", "expiresOn": "2026-01-01", "password": "***"}',
        ),
        ('{"access_token":"xyz"}', '{"access_token":"***"}'),
        ("ssn 15108695088, account 8601.11.17947", "ssn ***, account ***"),
        ("iban SE4550000000058398257466 ok", "iban *** ok"),
        (
            "1 validation error [type=string_type, input_value=48000, input_type=int]",
            "1 validation error [type=string_type, input_value=***, input_type=int]",
        ),
        ("run 17 wrote 1767225600000 at 12:00", "run 17 wrote 1767225600000 at 12:00"),
    ],
)
def test_each_credential_shape_is_masked(captured, line, expected):
    logger, stream = captured
    logger.info(line)
    assert stream.getvalue() == expected + "\n"


def test_arguments_exceptions_and_registered_secrets_are_masked(captured):
    logger, stream = captured
    logs.register_secrets(["r3gistered-secret/+", "abc"])  # "abc": too short to register
    try:
        raise RuntimeError("vendor said: token r3gistered-secret/+ is not valid")
    except RuntimeError:
        logger.exception("call %s with %s", "/auth?token=r3gistered-secret%2F%2B", "abc")
    text = stream.getvalue()
    assert text.startswith("call /auth?token=*** with abc\nTraceback (most recent call last):")
    assert text.endswith("RuntimeError: vendor said: token *** is not valid\n")
    assert "r3gistered" not in text


def test_zeep_envelopes_are_cut_to_their_operation(captured):
    _, stream = captured
    zeep = logging.getLogger("zeep.transports")
    zeep.handlers, zeep.propagate, zeep.level = captured[0].handlers, False, logging.DEBUG
    try:
        envelope = (
            '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/">'
            "<soap-env:Body><ns0:SavePersons><ns0:persons><ns0:PersonItem>"
            "<ns0:Address>Storgata 1</ns0:Address><ns0:Salary>48000</ns0:Salary>"
            "</ns0:PersonItem></ns0:persons></ns0:SavePersons></soap-env:Body></soap-env:Envelope>"
        )
        zeep.debug("HTTP Post to %s:\n%s", "http://127.0.0.1:5/Person.asmx", envelope)
    finally:
        zeep.handlers, zeep.propagate = [], True
    assert stream.getvalue() == (
        "HTTP Post to http://127.0.0.1:5/Person.asmx:\n"
        f"<SOAP envelope of {len(envelope)} characters (SavePersons), not logged>\n"
    )


class TokenExchange(Sandbox):
    """An API that trades a token in the query for a session cookie, as payroll's /auth does."""

    name = "token-exchange"

    def handle(self, request):
        return Response(
            200,
            b'{"token": "bearer-from-the-body"}',
            {"Set-Cookie": "ASP.NET_SessionId=cookie-value-77; path=/; HttpOnly"},
        )


def test_httpx_and_httpcore_records_carry_no_token(configured):
    with TokenExchange() as sandbox, httpx.Client(base_url=sandbox.url) as client:
        client.get("/auth", params={"token": "SECRET-ACCESS-TOKEN"})
        port = sandbox.url.rsplit(":", 1)[1]
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = configured.read_text()
    assert (
        f'httpx: HTTP Request: GET http://127.0.0.1:{port}/auth?token=*** "HTTP/1.1 200 OK"'
    ) in text
    assert "(b'Set-Cookie', b'***')" in text  # httpcore's DEBUG line of the headers
    for secret in ("SECRET-ACCESS-TOKEN", "cookie-value-77"):
        assert secret not in text
    assert stat.S_IMODE(configured.stat().st_mode) == 0o600


def test_the_log_file_is_created_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        os.close(logs.open_private(tmp_path / "a.log"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.log").stat().st_mode) == 0o600


def test_a_log_file_others_can_read_is_refused(tmp_path):
    shared = tmp_path / "shared.log"
    shared.write_text("")
    shared.chmod(0o644)
    result = fjordsync("plugins", "--log-file", str(shared))
    assert result.returncode == 2
    assert result.stderr == (
        f"error: --log-file: {shared} can be read or written by others (mode 0644): "
        f"chmod 600 {shared}\n"
    )


def test_log_options_anywhere_and_the_level_from_the_environment(tmp_path):
    log_file = tmp_path / "run.log"
    result = fjordsync("plugins", "--json", "--log-level", "debug", "--log-file", str(log_file))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    bad = fjordsync("plugins", env={"FJORDSYNC_LOG_LEVEL": "chatty"})
    assert bad.returncode == 2
    assert "'chatty' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in bad.stderr
    assert "Traceback" not in bad.stderr
