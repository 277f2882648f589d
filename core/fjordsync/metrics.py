"""Prometheus metrics of ``fjordsync serve --metrics-port N`` and ``fjordsync worker
--metrics-port N`` (docs/operations.md lists every metric and label).

What the run history says is read from the ledger at scrape time (``LedgerCollector``: one
aggregate query over the runs and one pass over their counts, no run item read), so a serve and
the workers of one ledger show the same figures, and a restart loses none:

    fjordsync_runs_total{tenant,flow,status}              finished runs (dry runs left out)
    fjordsync_runs_running{tenant,flow}                   runs going on
    fjordsync_records_total{tenant,flow,outcome}          records of those runs by outcome
    fjordsync_last_run_timestamp_seconds{tenant,flow}     when the last run finished
    fjordsync_last_success_timestamp_seconds{tenant,flow} when the last succeeded run finished
    fjordsync_ledger_up                                   1 when the ledger could be read

What only this process knows is counted here:

    fjordsync_http_requests_total{system,method,status_class}  requests this process sent
                                                               (transport's clients count them)
    fjordsync_budget_remaining{system,credential}              requests left this clock hour
    fjordsync_budget_per_hour{system,credential}               of the budget per hour
                                                               (``credential``: a hash of the
                                                               API URL and user name)

``count_request`` is what the HTTP clients call on every answer: a dict and a lock, nothing of
prometheus_client, so a plain ``fjordsync run`` pays nothing for metrics. prometheus_client is
imported only when a metrics server starts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

__all__ = [
    "LedgerCollector",
    "count_request",
    "requests_sent",
    "start_metrics_server",
    "status_class",
]

log = logging.getLogger(__name__)

_lock = threading.Lock()
_requests: dict[tuple[str, str, str], int] = {}


def status_class(status: int | None) -> str:
    """``2xx``, ``4xx``, ``5xx``...; ``error`` when no answer came (connection refused, timeout)."""
    return f"{status // 100}xx" if status else "error"


def count_request(system: str, method: str, status: int | None) -> None:
    """One request sent to ``system`` and how it was answered (``status`` None: no answer)."""
    key = (system or "unknown", method.upper(), status_class(status))
    with _lock:
        _requests[key] = _requests.get(key, 0) + 1


def requests_sent() -> dict[tuple[str, str, str], int]:
    """(system, method, status class) -> requests this process sent, so far."""
    with _lock:
        return dict(_requests)


class LedgerCollector:
    """A prometheus_client collector: the ledger's run totals, this process's requests and the
    request budgets in use, read at every scrape."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger

    def describe(self) -> list[Any]:
        return []  # the families are made at scrape time; nothing to check at registration

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        up = GaugeMetricFamily("fjordsync_ledger_up", "1 when the ledger could be read.")
        try:
            totals = self.ledger.run_totals()
        except Exception as exc:  # a scrape must answer; the failure is the up gauge
            log.warning("metrics: the ledger could not be read (%s)", type(exc).__name__)
            totals = None
        up.add_metric([], 1.0 if totals is not None else 0.0)
        yield up
        if totals is not None:
            runs = CounterMetricFamily(
                "fjordsync_runs",
                "Finished runs by status (dry runs left out).",
                labels=("tenant", "flow", "status"),
            )
            for (tenant, flow, status), count in sorted(totals.runs.items()):
                runs.add_metric([tenant, flow, status], count)
            yield runs
            running = GaugeMetricFamily(
                "fjordsync_runs_running", "Runs going on.", labels=("tenant", "flow")
            )
            for (tenant, flow), count in sorted(totals.running.items()):
                running.add_metric([tenant, flow], count)
            yield running
            records = CounterMetricFamily(
                "fjordsync_records",
                "Records of the runs by outcome.",
                labels=("tenant", "flow", "outcome"),
            )
            for (tenant, flow, outcome), count in sorted(totals.records.items()):
                records.add_metric([tenant, flow, outcome], count)
            yield records
            for name, text, moments in (
                ("fjordsync_last_run_timestamp_seconds", "When the last run finished.", "last"),
                (
                    "fjordsync_last_success_timestamp_seconds",
                    "When the last succeeded run finished.",
                    "success",
                ),
            ):
                gauge = GaugeMetricFamily(name, text, labels=("tenant", "flow"))
                chosen = totals.last_finished if moments == "last" else totals.last_succeeded
                for (tenant, flow), moment in sorted(chosen.items()):
                    gauge.add_metric([tenant, flow], moment.timestamp())
                yield gauge
        requests = CounterMetricFamily(
            "fjordsync_http_requests",
            "HTTP requests this process sent, by system, method and status class.",
            labels=("system", "method", "status_class"),
        )
        for (system, method, klass), count in sorted(requests_sent().items()):
            requests.add_metric([system, method, klass], count)
        yield requests
        yield from _budget_families()


def _budget_families() -> Iterator[Any]:
    from prometheus_client.core import GaugeMetricFamily

    from fjordsync.budget import budgets_in_use

    remaining = GaugeMetricFamily(
        "fjordsync_budget_remaining",
        "Requests left in this clock hour of a credential's budget.",
        labels=("system", "credential"),
    )
    per_hour = GaugeMetricFamily(
        "fjordsync_budget_per_hour",
        "Requests a credential's budget allows an hour.",
        labels=("system", "credential"),
    )
    for use in budgets_in_use():
        per_hour.add_metric([use.system, use.credential], use.per_hour)
        if use.remaining is not None:
            remaining.add_metric([use.system, use.credential], use.remaining)
    yield remaining
    yield per_hour


def start_metrics_server(ledger: Any, port: int, host: str = "127.0.0.1") -> Any:
    """Serve ``/metrics`` on ``host:port`` in a daemon thread, from a registry of its own (no
    Python process or GC metrics of prometheus_client's default registry, so every sample is
    fjordsync's). Returns the server (``shutdown()`` stops it). Raises OSError when the port
    cannot be bound."""
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(ledger))
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server
