"""Run keys: which run a task is, as (tenant, flow, due time).

A scheduled run's due time is the moment its schedule made it due (the scheduler's stored next
due time), the same for every scheduler that looks, so two schedulers make the same key and
the ledger's claim (``fjordsync.ledger.dispatch``) lets one of them enqueue it. A manual run
queued with ``run --queue`` is due when it was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["RunKey"]


@dataclass(frozen=True, slots=True)
class RunKey:
    tenant: str
    flow: str
    due_at: datetime  # aware

    def __post_init__(self) -> None:
        if self.due_at.tzinfo is None:
            raise ValueError("a run key's due time must carry a time zone")

    @property
    def text(self) -> str:
        """``tenant/flow/2026-12-01T05:30:00.000000Z``; it parses back from its end (flow names
        hold no ``/``), whatever the tenant's name holds."""
        due = self.due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return f"{self.tenant}/{self.flow}/{due}"

    @classmethod
    def parse(cls, text: str) -> RunKey:
        head, _, due = text.rpartition("/")
        tenant, _, flow = head.rpartition("/")
        if not tenant or not flow:
            raise ValueError(f"not a run key: {text!r}")
        moment = datetime.strptime(due, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return cls(tenant, flow, moment)

    def __str__(self) -> str:
        return self.text
