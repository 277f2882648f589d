"""The ledger's database: engine and sessions, SQLite's pragmas and file mode, the fingerprint key.

``LedgerEngine`` is the base the ledger's parts (``state``, ``history``, ``locks``,
``schedules``) share: one engine, one clock, one fingerprint key. Opening it migrates the
database to the current schema.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from fjordsync.errors import LedgerError, RunLocked
from fjordsync.ledger import migrate
from fjordsync.ledger.schema import Meta
from fjordsync.logs import redact

__all__ = [
    "DEFAULT_LEDGER_URL",
    "FINGERPRINT_KEY_ENV",
    "FINGERPRINT_KEY_FILE_ENV",
    "LedgerEngine",
]

DEFAULT_LEDGER_URL = "sqlite:///fjordsync.db"
FINGERPRINT_KEY_ENV = "FJORDSYNC_LEDGER_KEY"
FINGERPRINT_KEY_FILE_ENV = "FJORDSYNC_LEDGER_KEY_FILE"


def _masked(message: str | None) -> str | None:
    """A message as the run history keeps it: masked like a log record (``logs.redact``), since
    an error's text can carry a token, a personal number or an account, and a copied ledger
    file must not give them away."""
    return redact(message) if message else message


@overload
def _utc(moment: datetime) -> datetime: ...
@overload
def _utc(moment: datetime | None) -> datetime | None: ...
def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything the ledger stores is UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _system_clock() -> datetime:
    return datetime.now(UTC)


class LedgerEngine:
    """The database of a ledger. ``LedgerEngine(url)`` migrates it to the current schema."""

    def __init__(
        self,
        url: str = DEFAULT_LEDGER_URL,
        *,
        clock: Callable[[], datetime] = _system_clock,
        upgrade: bool = True,
        key_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.url = url
        self._clock = clock
        self._key_file = key_file
        _private_sqlite_file(url)
        try:
            self.engine: Engine = create_engine(url, future=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise LedgerError(f"cannot open ledger: {type(exc).__name__}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if upgrade:
            try:
                migrate.upgrade(self.engine)
            except SQLAlchemyError as exc:
                # Opening touches no records, so the driver's own words are safe to show.
                reason = getattr(exc, "orig", None) or exc
                where = self.engine.url.render_as_string(hide_password=True)
                raise LedgerError(f"cannot open the ledger at {where}: {reason}") from None
        self._fingerprint_key: bytes | None = None

    def _now(self) -> datetime:
        return _utc(self._clock())

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except (RunLocked, LedgerError):
            raise
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger error: {type(exc).__name__}") from exc

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A Core connection, for the statements a run repeats per record (an ORM session's
        unit of work costs several times their CPU). Writes go in ``connection.begin()``;
        what is left open when the block ends is rolled back (reads)."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except (RunLocked, LedgerError):
            raise
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger error: {type(exc).__name__}") from exc

    # -- fingerprints -------------------------------------------------------------------------
    @property
    def fingerprint_key(self) -> bytes:
        """The key for ``fingerprint()``, never kept in the database (whoever has the ledger file
        alone must not be able to test salary guesses against the fingerprints):

        1. ``FJORDSYNC_LEDGER_KEY``, when set;
        2. else the key file: ``key_file``, else ``FJORDSYNC_LEDGER_KEY_FILE``, else
           ``<ledger file>.key`` beside a SQLite ledger; generated (32 random bytes, hex) and
           created 0600 on first use, refused when others can read it. PostgreSQL needs one of
           these or the key variable.

        A key an older version kept in the ``meta`` table is moved to the key file and deleted
        from the table, so the fingerprints made with it stay valid."""
        if self._fingerprint_key is None:
            path = self.key_path()
            self._move_stored_key(path)
            configured = os.environ.get(FINGERPRINT_KEY_ENV)
            if configured:
                self._fingerprint_key = configured.encode()[:64]
            elif path is not None:
                self._fingerprint_key = _key_from_file(path)
            elif self._sqlite_file() is None and self.engine.dialect.name == "sqlite":
                self._fingerprint_key = secrets.token_bytes(32)  # in memory: lives as long
            else:
                raise LedgerError(
                    "this ledger needs a fingerprint key kept outside the database: set "
                    f"{FINGERPRINT_KEY_ENV}, or {FINGERPRINT_KEY_FILE_ENV} or [ledger] key_file "
                    "to a file path (the key is generated there on first use)"
                )
        return self._fingerprint_key

    def _sqlite_file(self) -> str | None:
        return sqlite_path(self.url)

    def key_path(self) -> str | None:
        explicit = self._key_file or os.environ.get(FINGERPRINT_KEY_FILE_ENV)
        if explicit:
            return os.fspath(explicit)
        database = self._sqlite_file()
        return f"{database}.key" if database else None

    def _move_stored_key(self, path: str | None) -> None:
        with self._session() as session:
            row = session.get(Meta, "fingerprint_key")
            if row is None:
                return
            if path is None:
                raise LedgerError(
                    "this ledger still keeps its fingerprint key in the database: set "
                    f"{FINGERPRINT_KEY_FILE_ENV} or [ledger] key_file to a file path, and the "
                    "key is moved there"
                )
            if os.path.exists(path):
                if _key_from_file(path) != bytes.fromhex(row.value):
                    raise LedgerError(
                        f"the ledger keeps a fingerprint key in its meta table and the key file "
                        f"{path} holds another: remove the one that is wrong"
                    )
            else:
                _write_key(path, row.value)
            session.delete(row)


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite ledger URL; None for other databases and in-memory SQLite."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def _refuse_if_shared(path: str, what: str) -> None:
    mode = os.stat(path).st_mode & 0o777
    if mode & 0o077:
        raise LedgerError(
            f"{what} {path} can be read or written by others (mode {mode:04o}): chmod 600 {path}"
        )


def _private_sqlite_file(url: str) -> None:
    """Creates a SQLite ledger's file 0600 before SQLite does (SQLite would follow the umask,
    usually 0644, and its -wal and -shm files copy the database file's mode); refuses one that
    others can read: it holds the run history and the links."""
    path = sqlite_path(url)
    if path is None:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _refuse_if_shared(path, "the ledger file")
        return
    except OSError:
        return  # no such directory and the like: SQLite's own error says so
    os.fchmod(fd, 0o600)  # the umask may have taken bits away
    os.close(fd)


def _write_key(path: str, hex_key: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, f"{hex_key}\n".encode())
    finally:
        os.close(fd)


def _key_from_file(path: str) -> bytes:
    """The key in ``path``, generated there first if the file does not exist."""
    try:
        _write_key(path, secrets.token_hex(32))
    except FileExistsError:
        pass  # kept from an earlier run, or another process made it just now
    except OSError as exc:
        raise LedgerError(
            f"cannot create the fingerprint key file {path}: {exc.strerror}"
        ) from None
    _refuse_if_shared(path, "the fingerprint key file")
    try:
        with open(path, encoding="ascii") as handle:
            return bytes.fromhex(handle.read().strip())
    except (OSError, ValueError):
        raise LedgerError(f"the fingerprint key file {path} cannot be read as a hex key") from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets run history be read while a run writes; foreign keys are off by default in SQLite.
    # synchronous=FULL (SQLite's default, said here so it is a decision): every commit is on disk
    # before it returns, so a pending marker outlives a power cut once its create may have been
    # sent. NORMAL would be as safe against a killed process but could lose the last commits to
    # a power cut, a marker among them (a second record next run); with a run's commits batched
    # (flows.common) it saved no measurable time.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
