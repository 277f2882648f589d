"""The ledger: sync state and run history, in SQLite by default or PostgreSQL by URL.

``Ledger`` is one class composed of the ledger's parts, each a module of its own over one
database (``engine``): ``state`` (links, cursors, pending writes, owed marks), ``history`` (runs
and their items), ``locks`` (run locks), ``schedules`` (when each scheduled flow is due),
``problems`` (each record's problem across runs: first seen, last seen, gone) and ``dispatch``
(the run keys a distributed scheduler put on the queue; importing it here also puts its table
on ``Base.metadata``, so the models and the migrated schema stay equal).

Guarantees the flows rely on:
- a write's link (source key -> target key, fingerprint) and its run item are saved in one
  transaction, together with clearing its pending-write marker;
- a cursor is advanced by the caller only after the writes it covers are saved;
- a pending write is recorded *before* a non-idempotent write is sent, so a lost answer or a
  crash leaves a trace to reconcile against the target next time; ``begin_writes`` records many
  in one transaction and ``save_outcomes`` saves many outcomes in one, each a write's link, item
  and the end of its marker together (``state``), so a flow may batch them;
- ``lock()`` keeps two runs of one flow for one tenant from overlapping, across processes and
  machines sharing the database; a lock whose holder died expires after its time to live;
- a run whose process died is closed as ``interrupted`` by ``close_dead_runs()``, with the
  reason, instead of staying ``running`` forever;
- a source mark a write owes (an hour's "exported" in SmartDok) is saved with the write's link
  and kept until ``settle_marks()``, so a kill between the write and the mark loses nothing.
"""

from __future__ import annotations

from fjordsync.ledger.dispatch import Dispatches, DispatchState
from fjordsync.ledger.engine import (
    DEFAULT_LEDGER_URL,
    FINGERPRINT_KEY_ENV,
    FINGERPRINT_KEY_FILE_ENV,
    LedgerEngine,
)
from fjordsync.ledger.history import History, RunItemRecord, RunRecord
from fjordsync.ledger.inspect import Inspect
from fjordsync.ledger.locks import Locks, lock_holder
from fjordsync.ledger.problems import KnownProblemRecord, ProblemNews, Problems
from fjordsync.ledger.schedules import Schedules, ScheduleState
from fjordsync.ledger.state import LinkState, State

__all__ = [
    "DEFAULT_LEDGER_URL",
    "FINGERPRINT_KEY_ENV",
    "FINGERPRINT_KEY_FILE_ENV",
    "DispatchState",
    "KnownProblemRecord",
    "Ledger",
    "LedgerEngine",
    "LinkState",
    "ProblemNews",
    "RunItemRecord",
    "RunRecord",
    "ScheduleState",
    "lock_holder",
]


class Ledger(State, History, Locks, Schedules, Dispatches, Problems, Inspect):
    """Sync state and run history. ``Ledger(url)`` migrates the database to the current schema.

    It provides ``ports.SyncState`` (what the flows record), and beside it the run history, the
    run locks and the schedule state that the runner, the scheduler and the CLI use, and the
    dispatched runs of the distributed runtime (an embedded ledger just has none)."""
