"""Sync state and run history (SQLAlchemy; SQLite by default, PostgreSQL by URL)."""

from fjordsync.ledger.store import (
    DEFAULT_LEDGER_URL,
    Ledger,
    LinkState,
    RunItemRecord,
    RunRecord,
)

__all__ = ["DEFAULT_LEDGER_URL", "Ledger", "LinkState", "RunItemRecord", "RunRecord"]
