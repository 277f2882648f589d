"""Run locks: at most one run of a flow per tenant at a time, across processes and machines
sharing the database. A lock whose holder died (its process is gone from this machine, or its
time to live ran out) is taken over."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import delete, update
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.exc import IntegrityError

from fjordsync.errors import RunLocked
from fjordsync.ledger.engine import LedgerEngine
from fjordsync.ledger.schema import RunLock

__all__ = ["Locks", "lock_holder"]


class Locks(LedgerEngine):
    """The run locks of a ledger."""

    @contextmanager
    def lock(
        self, tenant: str, flow: str, holder: str, *, ttl: timedelta = timedelta(hours=2)
    ) -> Iterator[None]:
        """Hold the run lock of ``flow`` for ``tenant``; raises ``RunLocked`` when another
        holder has it and its time to live has not run out."""
        self._acquire(tenant, flow, holder, ttl)
        try:
            yield
        finally:
            with self._session() as session:
                session.execute(
                    delete(RunLock).where(
                        RunLock.tenant == tenant, RunLock.flow == flow, RunLock.holder == holder
                    )
                )

    def _acquire(self, tenant: str, flow: str, holder: str, ttl: timedelta) -> None:
        now = self._now()
        try:
            with self._sessions.begin() as session:
                session.add(
                    RunLock(
                        tenant=tenant,
                        flow=flow,
                        holder=holder,
                        acquired_at=now,
                        expires_at=now + ttl,
                    )
                )
            return
        except IntegrityError:
            pass
        with self._session() as session:
            taken_over = _changed(
                session.execute(
                    update(RunLock)
                    .where(RunLock.tenant == tenant, RunLock.flow == flow, RunLock.expires_at < now)
                    .values(holder=holder, acquired_at=now, expires_at=now + ttl)
                )
            )
            if taken_over == 1:
                return
            current = session.get(RunLock, (tenant, flow))
            if current is not None and _holder_is_dead(current.holder):
                # Its process died on this machine (killed, crashed): the run is not going on.
                taken = _changed(
                    session.execute(
                        update(RunLock)
                        .where(
                            RunLock.tenant == tenant,
                            RunLock.flow == flow,
                            RunLock.holder == current.holder,
                        )
                        .values(holder=holder, acquired_at=now, expires_at=now + ttl)
                    )
                )
                if taken == 1:
                    return
            raise RunLocked(tenant, flow, current.holder if current else "unknown holder")


def _changed(result: Result[Any]) -> int:
    """How many rows an UPDATE changed. Session.execute is typed as giving a Result; an UPDATE's
    is a CursorResult, which counts them."""
    return cast("CursorResult[Any]", result).rowcount


def lock_holder(trigger: str) -> str:
    """Who holds a run lock: this machine and process, so a dead holder can be recognised."""
    return f"{socket.gethostname()}:{os.getpid()}:{trigger}"


def _holder_is_dead(holder: str) -> bool:
    """A holder on this machine whose process is gone. Holders elsewhere are trusted until their
    lock expires."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _process_of(holder: str | None) -> str:
    """``host:pid:trigger`` as "pid N on host H" (no other data is in a holder)."""
    host, _, rest = (holder or "").partition(":")
    pid = rest.partition(":")[0]
    return f"pid {pid} on host {host}" if host and pid else "unknown process"
