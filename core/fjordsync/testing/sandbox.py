"""The kit every connector's sandbox is built on: a real HTTP server on 127.0.0.1 that keeps
state and misbehaves on request.

A vendor sandbox subclasses ``Sandbox`` and implements ``handle(request) -> Response`` for the
vendor's API. The kit adds, for every sandbox alike:

- ``GET /_sandbox/state`` (the state as JSON) and ``PUT /_sandbox/state`` (replace it);
- ``GET /_sandbox/faults`` and ``POST /_sandbox/faults`` (a fault spec, as text or JSON);
- ``GET /_sandbox/stats`` (requests and writes counted per operation, and the wall and CPU
  milliseconds the handlers spent; ``DELETE`` resets them);
- faults on the vendor API (never on ``/_sandbox``), drawn from a seeded random generator so a
  run can be repeated: latency with jitter, a share of 500/502/503 answers, a share of 429 with
  ``Retry-After``, connections dropped before an answer, bodies sent slowly, and lost responses
  (the write is committed, then the connection is cut before the answer).

A fault spec is a comma-separated list, e.g. ``latency=20,jitter=5,5xx=0.2,429=0.1,seed=7``:

    latency=MS      added to every answer          jitter=MS   up to this much more, at random
    5xx=SHARE       500/502/503 before handling    429=SHARE   429 with Retry-After
    retry-after=S   seconds in Retry-After (1)     drop=SHARE  connection closed, no answer
    slow=MS         pause between body chunks      lost=SHARE  write committed, answer lost
    html=SHARE      an HTML error page (200), not handled, as a proxy or portal sends it
    truncated=SHARE handled (a write is committed), then only half the body is sent
    seed=N          random seed (0)

An exception raised by a handler becomes a 500 answer naming its class, never a dropped
connection (a client would take that for a transient fault and retry). Every answer leaves in
one write with Nagle's algorithm off, so the sandbox's own answer time stays well under the
latency a test adds.

``SandboxProcess`` serves a sandbox in a process of its own (a benchmark's sandboxes then share
no GIL with each other nor with the benchmark): the state is handed over, the URL comes back.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import random
import select
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, cast
from urllib.parse import parse_qsl, urlsplit

__all__ = ["FaultSpec", "Request", "Response", "Sandbox", "SandboxProcess", "json_response"]


@dataclass(frozen=True)
class FaultSpec:
    latency: float = 0.0  # ms
    jitter: float = 0.0  # ms
    server_errors: float = 0.0  # share of 5xx
    rate_limited: float = 0.0  # share of 429
    retry_after: float = 1.0  # seconds
    dropped: float = 0.0  # share of connections closed without an answer
    slow: float = 0.0  # ms between body chunks
    lost: float = 0.0  # share of writes whose answer is lost
    html: float = 0.0  # share of answers replaced by an HTML page
    truncated: float = 0.0  # share of answers cut to half their body
    seed: int = 0

    _NAMES: ClassVar[dict[str, str]] = {
        "latency": "latency",
        "jitter": "jitter",
        "5xx": "server_errors",
        "429": "rate_limited",
        "retry-after": "retry_after",
        "drop": "dropped",
        "slow": "slow",
        "lost": "lost",
        "html": "html",
        "truncated": "truncated",
        "seed": "seed",
    }

    @classmethod
    def parse(cls, spec: str | None) -> FaultSpec:
        """``"latency=20,5xx=0.2"`` -> FaultSpec. Raises ValueError naming a bad item."""
        values: dict[str, Any] = {}
        for item in (spec or "").split(","):
            if not item.strip():
                continue
            name, _, raw = item.partition("=")
            attribute = cls._NAMES.get(name.strip())
            if attribute is None:
                known = ", ".join(cls._NAMES)
                raise ValueError(f"unknown fault {name.strip()!r} (known: {known})")
            try:
                values[attribute] = int(raw) if attribute == "seed" else float(raw)
            except ValueError:
                raise ValueError(f"fault {name.strip()!r} needs a number, not {raw!r}") from None
        result = cls(**values)
        for share in ("server_errors", "rate_limited", "dropped", "lost", "html", "truncated"):
            if not 0 <= getattr(result, share) <= 1:
                raise ValueError(f"fault share {share} must be between 0 and 1")
        return result

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultSpec:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown faults: {', '.join(sorted(unknown))}")
        return cls(**data)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]  # in order, repeated keys kept
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def query_dict(self) -> dict[str, str]:
        return dict(self.query)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    write: bool = False  # the request changed state: "lost" faults apply to it


def json_response(status: int, payload: Any, **headers: str) -> Response:
    body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
    return Response(status, body, dict(headers))


class Sandbox:
    """Base of a vendor sandbox. Subclasses set ``name`` and implement ``handle``."""

    name = "sandbox"

    def __init__(self, state: dict[str, Any] | None = None, faults: FaultSpec | None = None):
        self.lock = threading.RLock()  # handlers run in threads: state changes take this lock
        self.state: dict[str, Any] = self.normalise_state(state or self.empty_state())
        self.faults = faults or FaultSpec()
        self._random = random.Random(self.faults.seed)
        self._random_lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.handler_seconds = 0.0  # wall time in handle(), summed (under self.lock)
        self.handler_cpu_seconds = 0.0  # CPU time of the handling threads in handle()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- to implement -------------------------------------------------------------------------
    def empty_state(self) -> dict[str, Any]:
        return {}

    def normalise_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """Check and complete a state given by a seed file or ``PUT /_sandbox/state``."""
        return state

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def operation(self, request: Request) -> str:
        """The name under which a request is counted in the stats."""
        return f"{request.method} {request.path}"

    def control(self, request: Request) -> Response | None:
        """A vendor sandbox's own ``/_sandbox/...`` endpoints; None: not one of them."""
        return None

    # -- running ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        # An AF_INET server's address: typeshed allows bytes for other families.
        host, port = cast("tuple[str, int]", self._server.server_address[:2])
        return f"http://{host}:{port}"

    def start(self, port: int = 0, host: str = "127.0.0.1") -> Sandbox:
        """Serve in a background thread (port 0: a free one). Returns self."""
        self._server = _Server((host, port), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so that stop() returns promptly
            name=f"{self.name}-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self, port: int, host: str = "127.0.0.1") -> None:
        self._server = _Server((host, port), _handler_for(self))
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults -------------------------------------------------------------------------------
    def set_faults(self, faults: FaultSpec) -> None:
        with self._random_lock:
            self.faults = faults
            self._random = random.Random(faults.seed)

    def _draw(self) -> list[float]:
        with self._random_lock:
            return [self._random.random() for _ in range(7)]

    # -- the kit's own endpoints -------------------------------------------------------------
    def _control(self, request: Request) -> Response:
        own = self.control(request)
        if own is not None:
            return own
        if request.path == "/_sandbox/state":
            if request.method == "GET":
                with self.lock:
                    return json_response(200, self.state)
            if request.method == "PUT":
                try:
                    new_state = self.normalise_state(request.json())
                except (ValueError, KeyError, TypeError) as exc:
                    return json_response(400, {"error": f"invalid state: {exc}"})
                with self.lock:
                    self.state = new_state
                return json_response(200, {"replaced": True})
        if request.path == "/_sandbox/faults":
            if request.method == "GET":
                return json_response(200, self.faults.as_json())
            if request.method == "POST":
                try:
                    text = request.body.decode().strip()
                    spec = (
                        FaultSpec.from_json(json.loads(text))
                        if text.startswith("{")
                        else FaultSpec.parse(text)
                    )
                except (ValueError, TypeError) as exc:
                    return json_response(400, {"error": str(exc)})
                self.set_faults(spec)
                return json_response(200, spec.as_json())
        if request.path == "/_sandbox/stats":
            if request.method == "GET":
                with self.lock:
                    return json_response(
                        200,
                        {
                            "requests": dict(self.requests),
                            "writes": dict(self.writes),
                            "total_requests": sum(self.requests.values()),
                            "total_writes": sum(self.writes.values()),
                            "handler_ms": round(self.handler_seconds * 1000, 3),
                            "handler_cpu_ms": round(self.handler_cpu_seconds * 1000, 3),
                        },
                    )
            if request.method == "DELETE":
                with self.lock:
                    self.requests.clear()
                    self.writes.clear()
                    self.handler_seconds = self.handler_cpu_seconds = 0.0
                return json_response(200, {"reset": True})
        return json_response(404, {"error": f"no sandbox endpoint {request.method} {request.path}"})


class SandboxProcess:
    """A sandbox served in a process of its own: a fresh interpreter (``python -c``), not
    multiprocessing, whose 'spawn' runs the parent's main script again in the child and whose
    'fork' copies a parent's threads in an unknown state. ``kind`` (the Sandbox subclass), its
    ``state`` and keyword ``options`` go over the child's stdin as JSON; the URL comes back on
    its stdout; it serves on a free port of 127.0.0.1 until ``stop()`` or until the parent goes
    away (its stdin closes), so no sandbox outlives the benchmark that started it."""

    def __init__(
        self, kind: type[Sandbox], state: dict[str, Any], timeout: float = 120, **options: Any
    ) -> None:
        self.name = kind.name
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from fjordsync.testing.sandbox import _child; _child()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        order = {"kind": f"{kind.__module__}:{kind.__qualname__}", "options": options}
        try:
            self._process.stdin.write(json.dumps({**order, "state": state}).encode() + b"\n")
            self._process.stdin.flush()
        except OSError:
            pass  # the child is gone: its answer below says why
        ready, _, _ = select.select([self._process.stdout], [], [], timeout)
        answer = self._process.stdout.readline().decode().strip() if ready else ""
        if not answer.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the {self.name} sandbox did not start: {answer or 'no answer'}")
        self.url: str = answer

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            if self._process.stdin is not None:
                self._process.stdin.close()  # the child's signal to stop
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=5)
        if self._process.stdout is not None:
            self._process.stdout.close()


def _tell(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _child() -> None:
    """The child of a SandboxProcess: serve until stdin closes."""
    order = json.loads(sys.stdin.buffer.readline())
    module, _, name = order["kind"].partition(":")
    try:
        kind = getattr(importlib.import_module(module), name)
        sandbox = kind(order["state"], **order["options"]).start()
    except Exception as exc:  # the parent reports it; no traceback of a child on stderr
        _tell(f"{type(exc).__name__}: {exc}")
        return
    del order  # the sandbox holds its own copy (normalise_state)
    _tell(sandbox.url)
    with contextlib.suppress(OSError, KeyboardInterrupt):
        while sys.stdin.buffer.read(65536):
            pass  # EOF: the parent stopped it or is gone
    sandbox.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that was killed or gave up resets its connection: that is the weather a
        # sandbox is for, not a sandbox error worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _DropConnection(Exception):
    """Close the connection without answering."""


HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><h1>Service Temporarily Unavailable</h1><p>The server is down for maintenance."
    b"</p></body></html>"
)


def _handler_for(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"fjordsync-{sandbox.name}-sandbox"
        # Headers and body go out in one write with TCP_NODELAY: otherwise Nagle's algorithm
        # meets the client's delayed ACK and every answer waits about 40 ms.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests and demos read their own output

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qsl(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            try:
                response = self._respond(request)
            except _DropConnection:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._send(response)

        def _respond(self, request: Request) -> Response:
            if request.path.startswith("/_sandbox/"):
                return sandbox._control(request)
            faults = sandbox.faults
            drop, error, limited, lost, jitter, html, truncated = sandbox._draw()
            delay = faults.latency + faults.jitter * jitter
            if delay:
                time.sleep(delay / 1000)
            with sandbox.lock:
                sandbox.requests[sandbox.operation(request)] += 1
            if drop < faults.dropped:
                raise _DropConnection
            if error < faults.server_errors:
                status = (500, 502, 503)[int(error / faults.server_errors * 3) % 3]
                return json_response(status, {"statusCode": status, "message": "sandbox fault"})
            if limited < faults.rate_limited:
                return json_response(
                    429,
                    {"statusCode": 429, "message": "Too Many Requests"},
                    **{"Retry-After": f"{faults.retry_after:g}"},
                )
            if html < faults.html:
                return Response(200, HTML_PAGE, content_type="text/html; charset=utf-8")
            started, started_cpu = time.perf_counter(), time.thread_time()
            try:
                response = sandbox.handle(request)
            except Exception as exc:  # a sandbox defect still gets an answer, never a hang-up
                return json_response(
                    500, {"statusCode": 500, "message": f"sandbox error: {type(exc).__name__}"}
                )
            finally:
                # So that a benchmark can show the sandbox is not what it measures, also when
                # the sandbox runs in another process (SandboxProcess).
                elapsed, cpu = time.perf_counter() - started, time.thread_time() - started_cpu
                with sandbox.lock:
                    sandbox.handler_seconds += elapsed
                    sandbox.handler_cpu_seconds += cpu
            if response.write:
                with sandbox.lock:
                    sandbox.writes[sandbox.operation(request)] += 1
                if lost < faults.lost:
                    raise _DropConnection  # committed, but the answer never arrives
            if truncated < faults.truncated and len(response.body) > 1:
                response.body = response.body[: len(response.body) // 2]
            return response

        def _send(self, response: Response) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            pause = sandbox.faults.slow / 1000
            body = b"" if self.command == "HEAD" else response.body
            if not pause or not body or self.path.startswith("/_sandbox/"):
                # One burst: the header buffer and the body in a single write.
                # http.server's private header buffer, which typeshed leaves out.
                self._headers_buffer.append(b"\r\n" + body)  # type: ignore[attr-defined]
                self.flush_headers()
                return
            self.end_headers()
            chunk = max(1, len(response.body) // 4)
            for start in range(0, len(response.body), chunk):
                self.wfile.write(response.body[start : start + chunk])
                self.wfile.flush()
                time.sleep(pause)

        # Every standard method reaches the sandbox, which answers 405 where the vendor does;
        # http.server would answer 501 ("not implemented") for a method without a do_ here.
        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve
        do_OPTIONS = do_TRACE = _serve

    return Handler
