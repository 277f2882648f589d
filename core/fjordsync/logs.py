"""Logging set-up and redaction: no credential and no personal number reaches a log, whatever
the level.

HTTP libraries log what they send: httpx logs every URL at INFO (the payroll access token
travels in ``/auth?token=``), httpcore logs response headers at DEBUG (``Set-Cookie`` with the
24SevenOffice session), zeep logs whole SOAP envelopes at DEBUG (the password, the application
id, and the records themselves). ``RedactionFilter`` rewrites each record before any handler
formats it: the message with its arguments, the exception text and the stack. It replaces

- every secret value registered with ``register_secrets`` (the CLI registers each resolved
  secret of the loaded config), also percent-encoded;
- credentials by their shape: tokens in URL queries, ``Authorization``/``Cookie``/``Set-Cookie``
  headers, session cookies, bearer tokens, ``<password>``-like XML elements, ``"token"``-like
  JSON or Python-literal values, ``password=...`` pairs;
- personal numbers and bank accounts (11 digits), IBANs, and pydantic's ``input_value=``;
- SOAP envelopes logged by ``zeep.transports``, which are cut to their operation's name because
  they carry the records (names, addresses, salaries).

Hosts embedding fjordsync call ``install_redaction(handler_or_logger)`` on the handlers that
write their logs; the CLI's ``configure()`` puts the filter on every handler it installs.

Two formats (``--log-format``, ``$FJORDSYNC_LOG_FORMAT``): ``text``, a line a person reads, and
``json``, one JSON object a line for a log shipper (``JsonFormatter``: time, level, logger,
message, the run, tenant and flow when known, the exception as text). Both format records the
redaction filter has already rewritten: the filter sits on the handler, and a handler filters a
record before it formats it, so a JSON line masks exactly what a text line masks.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import threading
import traceback
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from io import TextIOWrapper
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

__all__ = [
    "DEFAULT_FORMAT",
    "DEFAULT_LEVEL",
    "FORMATS",
    "LOG_FILE_ENV",
    "LOG_FORMAT_ENV",
    "LOG_LEVEL_ENV",
    "JsonFormatter",
    "RedactionFilter",
    "configure",
    "configured_format",
    "default_log_file",
    "escape_controls",
    "install_redaction",
    "open_private",
    "redact",
    "register_secrets",
    "reset",
    "run_context",
    "write_trace",
]

LOG_LEVEL_ENV = "FJORDSYNC_LOG_LEVEL"
LOG_FILE_ENV = "FJORDSYNC_LOG_FILE"
LOG_FORMAT_ENV = "FJORDSYNC_LOG_FORMAT"
DEFAULT_LEVEL = "WARNING"
DEFAULT_FORMAT = "text"
FORMATS = ("text", "json")
MASK = "***"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
REDACTED_LOGGERS = ("", "fjordsync", "httpx", "httpcore", "zeep")

_FILE_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
_STREAM_FORMAT = "%(levelname)s %(name)s: %(message)s"

# The names credentials go by, in URLs, headers, XML and JSON.
_CREDENTIAL_WORDS = (
    r"token|access_?token|refresh_?token|id_?token|api_?token|auth_?token|bearer|"
    r"password|passwd|pwd|secret|client_?secret|api_?key|apikey|"
    r"application_?id|session_?id|authorization"
)
# Each pattern keeps the name and separators (groups before the last) and masks the value.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # name=value in URL queries, form bodies and plain text: ?token=..., &key=..., password=...
    (
        re.compile(
            rf"(?i)(\b(?:{_CREDENTIAL_WORDS})=|[?&;](?:key|sig|signature|code|auth)=)[^&\s\"'<>,;)]+"
        ),
        rf"\1{MASK}",
    ),
    # HTTP headers, as text ("Authorization: Bearer x"), dict reprs ('cookie': 'x') and
    # httpcore's byte tuples ((b'Set-Cookie', b'x; path=/')).
    (
        re.compile(
            r"(?i)(\b(?:proxy-)?authorization|\bset-cookie|\bcookie|\bx-api-key|\bapi-key|"
            r"\bx-auth-token)(['\"]?\s*[:=,]\s*(?:(?-i:b)?['\"])?)[^'\"\r\n]+"
        ),
        rf"\1\2{MASK}",
    ),
    # Session cookies anywhere: ASP.NET_SessionId=..., JSESSIONID=...
    (re.compile(r"(?i)(\b[\w.]*session_?id=)[^;&\s'\"<]+"), rf"\1{MASK}"),
    (re.compile(r"(?i)(\bbearer\s+)[^\s'\",;]+"), rf"\1{MASK}"),
    (re.compile(r"(\bBasic\s+)(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{6,}={0,2}"), rf"\1{MASK}"),
    # XML elements: <password>, <ApplicationId>, <tns:Token attr="...">
    (
        re.compile(rf"(?i)(<([\w.-]+:)?({_CREDENTIAL_WORDS})(\s[^>]*)?>)[^<]*(</)"),
        rf"\1{MASK}\5",
    ),
    # JSON and Python literals: "token": "...", 'password': '...'
    (
        re.compile(rf"(?i)(([\"'])(?:{_CREDENTIAL_WORDS})\2\s*:\s*([\"']))(?:\\.|(?!\3).)*\3"),
        rf"\1{MASK}\3",
    ),
    # pydantic puts the offending value into its errors.
    (re.compile(r"(input_value=).*?(, input_type=)"), rf"\1{MASK}\2"),
    # fødselsnummer, D-numbers and Norwegian bank accounts (11 digits, optionally 4.2.5).
    (re.compile(r"(?<![\w.])\d{4}[. ]?\d{2}[. ]?\d{5}(?![\w.])"), MASK),
    (re.compile(r"(?<![\w.])\d{6} ?\d{5}(?![\w.])"), MASK),
    # IBANs
    (re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), MASK),
)
_SOAP_BODY = re.compile(r"(?is)<(?:[\w-]+:)?Body\b[^>]*>\s*<(?:[\w-]+:)?([\w-]+)")

_lock = threading.Lock()
_secrets: list[str] = []


def register_secrets(values: Iterable[str]) -> None:
    """Mask these values wherever they occur in a log record, a CLI message or an error.

    Values shorter than four characters are not registered: masking them would mangle every
    line, and a secret that short is no secret."""
    with _lock:
        known = set(_secrets)
        for value in values:
            for form in (value, quote(value, safe="")):
                if len(form) >= 4 and form not in known:
                    known.add(form)
        _secrets[:] = sorted(known, key=len, reverse=True)  # longest first: no partial masks


def redact(text: str) -> str:
    """``text`` with registered secrets, credentials by shape and personal numbers masked."""
    if not text:
        return text
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _cut_envelope(record: logging.LogRecord, message: str) -> str:
    """zeep.transports logs ``HTTP Post to URL:\\n<envelope>`` and the answer likewise: keep the
    first line and the operation, drop the envelope (it carries the records)."""
    head, newline, body = message.partition("\n")
    if not newline:
        return message
    operation = _SOAP_BODY.search(body)
    name = operation.group(1) if operation else "unknown"
    return f"{head}\n<SOAP envelope of {len(body)} characters ({name}), not logged>"


class RedactionFilter(logging.Filter):
    """Masks credentials and personal numbers in a record, before any handler formats it.

    The record is rewritten in place (message formatted with its arguments, exception and stack
    text rendered and masked), so every handler after this filter sees the masked text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_fjordsync_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a host's broken format string: keep what can be kept
            message = str(record.msg)
        if record.name.startswith("zeep.transports"):
            message = _cut_envelope(record, message)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._fjordsync_redacted = True
        return True


_FILTER = RedactionFilter()


def install_redaction(target: logging.Handler | logging.Logger) -> None:
    """Put the redaction filter on a handler, or on a logger and each of its handlers.

    A logger's own filters only see records logged on that very logger, not its children
    (``httpcore.http11``): the handlers are where every record passes, so install on those."""
    targets: list[logging.Filterer] = [target]
    if isinstance(target, logging.Logger):
        targets += target.handlers
    for item in targets:
        if _FILTER not in item.filters:
            item.addFilter(_FILTER)


_CONTROLS_KEPT = frozenset("\n\t")
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ESCAPED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})  # controls, line and paragraph separators


def _escaped(char: str) -> str:
    return repr(char)[1:-1] if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escape_controls(text: str, *, keep: frozenset[str] = frozenset()) -> str:
    """C0 and C1 control characters (ESC among them), DEL, line separators and bidirectional
    overrides as ``\\x1b``-style escapes, so data cannot move the cursor, recolour or retitle
    a terminal, or fake a line of output."""
    if text.isprintable() and not (_BIDI & set(text)):
        return text
    return "".join(
        _escaped(char)
        if char not in keep and (unicodedata.category(char) in _ESCAPED_CATEGORIES or char in _BIDI)
        else char
        for char in text
    )


# The run a log record belongs to, when the code logging it is inside ``run_context``.
_RUN_CONTEXT: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "fjordsync_run_context", default=None
)
_CONTEXT_FIELDS = ("run", "tenant", "flow")


@contextmanager
def run_context(
    *, run: int | None = None, tenant: str | None = None, flow: str | None = None
) -> Iterator[None]:
    """Records logged inside this block (in this task or thread) carry the run id, tenant and
    flow in the JSON format. A record's own ``extra={"run": ...}`` wins over the block's."""
    known = {
        name: value
        for name, value in (("run", run), ("tenant", tenant), ("flow", flow))
        if value is not None
    }
    token = _RUN_CONTEXT.set({**(_RUN_CONTEXT.get() or {}), **known})
    try:
        yield
    finally:
        _RUN_CONTEXT.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``,
    ``run``/``tenant``/``flow`` when known, ``exc_info`` (the traceback as text) and
    ``stack_info`` when the record has them. Non-ASCII is escaped, so no control character or
    bidirectional override of the data reaches a terminal.

    A record that did not pass the redaction filter (a handler a host set up without it) is
    masked here, so this format never writes what the text format would have masked."""

    def format(self, record: logging.LogRecord) -> str:
        if not getattr(record, "_fjordsync_redacted", False):
            _FILTER.filter(record)
        moment = datetime.fromtimestamp(record.created, UTC)
        document: dict[str, object] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = _RUN_CONTEXT.get() or {}
        for name in _CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is None:
                value = context.get(name)
            if value is not None:
                document[name] = value
        if record.exc_text:
            document["exc_info"] = record.exc_text
        if record.stack_info:
            document["stack_info"] = record.stack_info
        return json.dumps(document, default=str)


class _TerminalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record), keep=_CONTROLS_KEPT)


def open_private(path: str | os.PathLike[str], *, append: bool = True) -> int:
    """A file descriptor of ``path`` opened for writing: created 0600 whatever the umask, and
    refused (PermissionError naming the fix) when it exists and others can read or write it."""
    flags = os.O_WRONLY | (os.O_APPEND if append else os.O_TRUNC)
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(fd, 0o600)  # the umask may have taken bits away; it cannot have added any
        return fd
    except FileExistsError:
        fd = os.open(path, flags)
    mode = os.fstat(fd).st_mode & 0o777
    if mode & 0o077:
        os.close(fd)
        raise PermissionError(
            f"{path} can be read or written by others (mode {mode:04o}): chmod 600 {path}"
        )
    return fd


def default_log_file() -> Path:
    """Where traces go when no --log-file is given: ``fjordsync.log`` in the user's state
    directory (``$XDG_STATE_HOME/fjordsync``, ``~/.local/state/fjordsync`` on Linux)."""
    from platformdirs import user_state_path

    return user_state_path("fjordsync", appauthor=False) / "fjordsync.log"


class _State:
    log_file: Path | None = None  # the file this process logs to, if one is open
    format: str = DEFAULT_FORMAT
    handlers: ClassVar[list[logging.Handler]] = []


class _PrivateFileHandler(logging.FileHandler):
    """A FileHandler whose file is created 0600 and refused when others can read it."""

    def _open(self) -> TextIOWrapper:
        return open(open_private(self.baseFilename), "a", encoding=self.encoding)


def _file_handler(path: Path) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = _PrivateFileHandler(path, encoding="utf-8", delay=False)
    handler.setFormatter(formatter(_State.format, stream=False))
    return handler


def formatter(log_format: str, *, stream: bool) -> logging.Formatter:
    """The formatter of ``log_format`` (``text`` or ``json``) for a terminal (``stream``) or a
    file. Raises ValueError for another format."""
    if log_format == "json":
        return JsonFormatter()
    if log_format != "text":
        raise ValueError(f"unknown log format {log_format!r} (use one of {', '.join(FORMATS)})")
    return _TerminalFormatter(_STREAM_FORMAT) if stream else logging.Formatter(_FILE_FORMAT)


def configure(
    level: str | None = None,
    log_file: str | os.PathLike[str] | None = None,
    log_format: str | None = None,
) -> None:
    """The CLI's logging: records at ``level`` (default $FJORDSYNC_LOG_LEVEL, else WARNING) in
    ``log_format`` (default $FJORDSYNC_LOG_FORMAT, else text) to ``log_file`` (0600) when
    given, else to stderr; every handler redacts.

    Raises ValueError for an unknown level or format and OSError/PermissionError for a log file
    that cannot be opened or that others can read."""
    name = (level or os.environ.get(LOG_LEVEL_ENV) or DEFAULT_LEVEL).upper()
    if name not in LEVELS:
        raise ValueError(f"unknown log level {name!r} (use one of {', '.join(LEVELS)})")
    chosen = (log_format or os.environ.get(LOG_FORMAT_ENV) or DEFAULT_FORMAT).lower()
    formatter(chosen, stream=False)  # an unknown format is refused before anything changes
    reset()
    _State.format = chosen
    root = logging.getLogger()
    if log_file:
        path = Path(log_file)
        handler = _file_handler(path)
        _State.log_file = path
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter(chosen, stream=True))
    install_redaction(handler)
    root.addHandler(handler)
    _State.handlers.append(handler)
    root.setLevel(name)
    for logger_name in REDACTED_LOGGERS:
        install_redaction(logging.getLogger(logger_name))


def configured_format() -> str:
    """The format this process logs in: what ``configure()`` chose, else
    $FJORDSYNC_LOG_FORMAT (a Celery worker started by ``celery -A``), else text."""
    if _State.handlers:
        return _State.format
    chosen = (os.environ.get(LOG_FORMAT_ENV) or DEFAULT_FORMAT).lower()
    return chosen if chosen in FORMATS else DEFAULT_FORMAT


def reset() -> None:
    """Remove and close the handlers ``configure()`` installed."""
    root = logging.getLogger()
    for handler in _State.handlers:
        root.removeHandler(handler)
        handler.close()
    _State.handlers = []
    _State.log_file = None


def write_trace(error: BaseException, message: str) -> Path | None:
    """Log ``error`` with its traceback to the log file (the default one when logging goes to
    stderr); returns the file, or None when no file could be written."""
    handler: logging.Handler | None = None
    path = _State.log_file
    try:
        if path is None:
            path = default_log_file()
            handler = _file_handler(path)
            install_redaction(handler)
        record = logging.LogRecord(
            "fjordsync",
            logging.ERROR,
            __file__,
            0,
            message,
            None,
            (type(error), error, error.__traceback__),
        )
        _FILTER.filter(record)
        targets = [handler] if handler else _State.handlers
        for target in targets:
            target.handle(record)
            target.flush()
    except OSError:
        return None
    finally:
        if handler is not None:
            handler.close()
    return path
