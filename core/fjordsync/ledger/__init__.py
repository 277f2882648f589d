"""Sync state and run history (SQLAlchemy; SQLite by default, PostgreSQL by URL).

One module per concern: ``engine`` (database, sessions, fingerprint key), ``state``,
``history``, ``locks``, ``schedules``; ``store.Ledger`` is all of them in one class.
"""

from fjordsync.ledger.store import (
    DEFAULT_LEDGER_URL,
    Ledger,
    LinkState,
    RunItemRecord,
    RunRecord,
    ScheduleState,
    lock_holder,
)

__all__ = [
    "DEFAULT_LEDGER_URL",
    "Ledger",
    "LinkState",
    "RunItemRecord",
    "RunRecord",
    "ScheduleState",
    "lock_holder",
]
