"""The ledger: sync state and run history, in SQLite by default or PostgreSQL by URL.

Guarantees the flows rely on:
- a write's link (source key -> target key, fingerprint) and its run item are saved in one
  transaction, together with clearing its pending-write marker;
- a cursor is advanced by the caller only after the writes it covers are saved;
- a pending write is recorded *before* a non-idempotent write is sent, so a lost answer or a
  crash leaves a trace to reconcile against the target next time;
- ``lock()`` keeps two runs of one flow for one tenant from overlapping, across processes and
  machines sharing the database; a lock whose holder died expires after its time to live;
- a run whose process died is closed as ``interrupted`` by ``close_dead_runs()``, with the
  reason, instead of staying ``running`` forever;
- a source mark a write owes (an hour's "exported" in SmartDok) is saved with the write's link
  and kept until ``settle_marks()``, so a kill between the write and the mark loses nothing.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, delete, event, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from fjordsync.errors import LedgerError, RunLocked
from fjordsync.ledger import migrate
from fjordsync.ledger.schema import (
    Cursor,
    Link,
    Meta,
    OwedMark,
    PendingWrite,
    Run,
    RunItem,
    RunLock,
)
from fjordsync.logs import redact

__all__ = ["DEFAULT_LEDGER_URL", "Ledger", "LinkState", "RunItemRecord", "RunRecord"]

DEFAULT_LEDGER_URL = "sqlite:///fjordsync.db"
FINGERPRINT_KEY_ENV = "FJORDSYNC_LEDGER_KEY"
FINGERPRINT_KEY_FILE_ENV = "FJORDSYNC_LEDGER_KEY_FILE"


def _masked(message: str | None) -> str | None:
    """A message as the run history keeps it: masked like a log record (``logs.redact``), since
    an error's text can carry a token, a personal number or an account, and a copied ledger
    file must not give them away."""
    return redact(message) if message else message


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything the ledger stores is UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class LinkState:
    source_key: str
    target_key: str | None
    fingerprint: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RunItemRecord:
    entity: str
    record_key: str
    action: str
    outcome: str
    message: str | None
    changed_fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    tenant: str
    flow: str
    trigger: str
    dry_run: bool
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    message: str | None
    items: tuple[RunItemRecord, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant": self.tenant,
            "flow": self.flow,
            "trigger": self.trigger,
            "dry_run": self.dry_run,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "counts": dict(self.counts),
            "message": self.message,
            "items": [
                {
                    "entity": i.entity,
                    "key": i.record_key,
                    "action": i.action,
                    "outcome": i.outcome,
                    "message": i.message,
                    "changed_fields": list(i.changed_fields),
                }
                for i in self.items
            ],
        }


def _run_record(run: Run, with_items: bool) -> RunRecord:
    items = (
        tuple(
            RunItemRecord(
                i.entity,
                i.record_key,
                i.action,
                i.outcome,
                i.message,
                tuple(filter(None, (i.changed_fields or "").split(","))),
            )
            for i in run.items
        )
        if with_items
        else ()
    )
    return RunRecord(
        run.id,
        run.tenant,
        run.flow,
        run.trigger,
        run.dry_run,
        run.status,
        _utc(run.started_at),  # type: ignore[arg-type]
        _utc(run.finished_at),
        dict(run.counts or {}),
        run.message,
        items,
    )


def _owed(tenant: str, flow: str, source_key: str) -> tuple[Any, ...]:
    return (OwedMark.tenant == tenant, OwedMark.flow == flow, OwedMark.source_key == source_key)


def _why_dead(run: Run, lock: RunLock | None, now: datetime) -> str | None:
    """Why a ``running`` run is not going on any more, or None when it may be."""
    who = _process_of(run.holder)
    if run.holder and _holder_is_dead(run.holder):
        return f"the process running it ({who}) is gone"
    if lock is None:
        return f"the process running it ({who}) is gone: its run lock was released"
    if run.holder is not None and lock.holder != run.holder:
        return f"the process running it ({who}) is gone: another run took its lock over"
    if run.holder is None and _utc(lock.acquired_at) > _utc(run.started_at):  # type: ignore[operator]
        return "the process running it is gone: another run took its lock over"
    expires_at = _utc(lock.expires_at)
    if expires_at is not None and expires_at < now:
        return f"the process running it ({who}) is gone: its run lock expired"
    return None


def _process_of(holder: str | None) -> str:
    """``host:pid:trigger`` as "pid N on host H" (no other data is in a holder)."""
    host, _, rest = (holder or "").partition(":")
    pid = rest.partition(":")[0]
    return f"pid {pid} on host {host}" if host and pid else "unknown process"


def _pending(tenant: str, flow: str, entity: str, source_key: str) -> tuple[Any, ...]:
    """The conditions that pick one record's pending write."""
    return (
        PendingWrite.tenant == tenant,
        PendingWrite.flow == flow,
        PendingWrite.entity == entity,
        PendingWrite.source_key == source_key,
    )


class Ledger:
    """Sync state and run history. ``Ledger(url)`` migrates the database to the current schema."""

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
        return _utc(self._clock())  # type: ignore[return-value]

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
            path = self._key_path()
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
        return _sqlite_path(self.url)

    def _key_path(self) -> str | None:
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

    # -- runs ---------------------------------------------------------------------------------
    def start_run(
        self, tenant: str, flow: str, *, trigger: str, dry_run: bool, holder: str | None = None
    ) -> int:
        """A new run, ``running``. ``holder`` is the run lock's holder (``lock_holder()``), so
        ``close_dead_runs`` can tell whether its process is still there."""
        with self._session() as session:
            run = Run(
                tenant=tenant,
                flow=flow,
                trigger=trigger,
                dry_run=dry_run,
                status="running",
                started_at=self._now(),
                counts={},
                holder=holder,
            )
            session.add(run)
            session.flush()
            return run.id

    def record_item(
        self,
        run_id: int,
        *,
        entity: str,
        key: str,
        action: str,
        outcome: str,
        message: str | None = None,
        changed_fields: tuple[str, ...] = (),
    ) -> None:
        with self._session() as session:
            session.add(
                RunItem(
                    run_id=run_id,
                    entity=entity,
                    record_key=key,
                    action=action,
                    outcome=outcome,
                    message=_masked(message),
                    changed_fields=",".join(changed_fields) or None,
                )
            )

    def finish_run(
        self, run_id: int, *, status: str, counts: Mapping[str, int], message: str | None = None
    ) -> None:
        with self._session() as session:
            run = session.get(Run, run_id)
            if run is None:
                raise LedgerError(f"no run {run_id}")
            run.status = status
            run.counts = dict(counts)
            run.message = _masked(message)
            run.finished_at = self._now()

    def close_dead_runs(self, *, tenant: str | None = None, flow: str | None = None) -> list[int]:
        """Close as ``interrupted`` every run still ``running`` that nothing runs any more, and
        return their ids. A run is dead when its flow's run lock is gone or held by another
        holder (the lock outlives a run only when its process died), when the lock expired, or
        when its holder's process on this machine is gone. A run whose holder still holds a
        live lock is left alone, on any machine."""
        now = self._now()
        closed: list[int] = []
        with self._session() as session:
            query = select(Run).where(Run.status == "running")
            if tenant:
                query = query.where(Run.tenant == tenant)
            if flow:
                query = query.where(Run.flow == flow)
            for run in session.scalars(query):
                reason = _why_dead(run, session.get(RunLock, (run.tenant, run.flow)), now)
                if reason is None:
                    continue
                run.status = "interrupted"
                run.message = _masked(reason)
                run.finished_at = now
                closed.append(run.id)
        return closed

    def runs(
        self, *, tenant: str | None = None, flow: str | None = None, limit: int = 50
    ) -> list[RunRecord]:
        with self._session() as session:
            query = select(Run).order_by(Run.id.desc()).limit(limit)
            if tenant:
                query = query.where(Run.tenant == tenant)
            if flow:
                query = query.where(Run.flow == flow)
            return [_run_record(run, with_items=False) for run in session.scalars(query)]

    def run(self, run_id: int) -> RunRecord | None:
        with self._session() as session:
            run = session.get(Run, run_id)
            return _run_record(run, with_items=True) if run else None

    def failed_keys(self, run_id: int) -> dict[str, set[str]]:
        """Per entity, the keys whose write failed or was invalid in a run (for retries)."""
        with self._session() as session:
            rows = session.execute(
                select(RunItem.entity, RunItem.record_key).where(
                    RunItem.run_id == run_id, RunItem.outcome.in_(("failed", "invalid"))
                )
            )
            keys: dict[str, set[str]] = {}
            for entity, key in rows:
                keys.setdefault(entity, set()).add(key)
            return keys

    # -- links --------------------------------------------------------------------------------
    def links(self, tenant: str, flow: str, entity: str) -> dict[str, LinkState]:
        with self._session() as session:
            rows = session.scalars(
                select(Link).where(Link.tenant == tenant, Link.flow == flow, Link.entity == entity)
            )
            return {
                row.source_key: LinkState(
                    row.source_key,
                    row.target_key,
                    row.fingerprint,
                    _utc(row.updated_at),  # type: ignore[arg-type]
                )
                for row in rows
            }

    def record_write(
        self,
        run_id: int,
        *,
        tenant: str,
        flow: str,
        entity: str,
        source_key: str,
        target_key: str,
        fingerprint: str,
        action: str,
        changed_fields: tuple[str, ...] = (),
        message: str | None = None,
        owed_mark: str | None = None,
    ) -> None:
        """Save a successful write: its link, its run item, and the end of its pending marker,
        in one transaction, so the ledger never says a write happened without its link.
        ``owed_mark`` (an export id) records in the same transaction that the source is owed a
        mark for this record (see ``owed_marks``)."""
        now = self._now()
        with self._session() as session:
            link = session.scalars(
                select(Link).where(
                    Link.tenant == tenant,
                    Link.flow == flow,
                    Link.entity == entity,
                    Link.source_key == source_key,
                )
            ).one_or_none()
            if link is None:
                link = Link(tenant=tenant, flow=flow, entity=entity, source_key=source_key)
                session.add(link)
            link.target_key = target_key
            link.fingerprint = fingerprint
            link.updated_at = now
            link.run_id = run_id
            session.add(
                RunItem(
                    run_id=run_id,
                    entity=entity,
                    record_key=source_key,
                    action=action,
                    outcome="written",
                    message=_masked(message),
                    changed_fields=",".join(changed_fields) or None,
                )
            )
            session.execute(delete(PendingWrite).where(*_pending(tenant, flow, entity, source_key)))
            if owed_mark is not None:
                owed = session.scalars(
                    select(OwedMark).where(*_owed(tenant, flow, source_key))
                ).one_or_none()
                if owed is None:
                    session.add(
                        OwedMark(
                            tenant=tenant,
                            flow=flow,
                            source_key=source_key,
                            export_id=owed_mark,
                            created_at=now,
                            run_id=run_id,
                        )
                    )
                else:
                    owed.export_id = owed_mark

    # -- marks owed to a source ---------------------------------------------------------------
    def owed_marks(self, tenant: str, flow: str) -> dict[str, str]:
        """Source key -> export id of the records written whose source mark has not got
        through yet."""
        with self._session() as session:
            rows = session.execute(
                select(OwedMark.source_key, OwedMark.export_id).where(
                    OwedMark.tenant == tenant, OwedMark.flow == flow
                )
            )
            return {key: export_id for key, export_id in rows}

    def settle_marks(self, tenant: str, flow: str, keys: Iterable[str]) -> None:
        """The source took these marks: they are owed no more."""
        wanted = list(keys)
        if not wanted:
            return
        with self._session() as session:
            session.execute(
                delete(OwedMark).where(
                    OwedMark.tenant == tenant,
                    OwedMark.flow == flow,
                    OwedMark.source_key.in_(wanted),
                )
            )

    # -- pending writes -----------------------------------------------------------------------
    def begin_write(
        self, run_id: int, *, tenant: str, flow: str, entity: str, source_key: str, marker: str
    ) -> None:
        """Note a write about to be sent whose outcome could be lost. Kept until
        ``record_write`` or ``forget_pending``; an existing marker is kept (same write)."""
        with self._session() as session:
            exists = session.scalars(
                select(PendingWrite).where(*_pending(tenant, flow, entity, source_key))
            ).one_or_none()
            if exists is None:
                session.add(
                    PendingWrite(
                        tenant=tenant,
                        flow=flow,
                        entity=entity,
                        source_key=source_key,
                        marker=marker,
                        created_at=self._now(),
                        run_id=run_id,
                    )
                )

    def pending_writes(self, tenant: str, flow: str, entity: str) -> dict[str, str]:
        """Source key -> marker of writes whose outcome is unknown."""
        with self._session() as session:
            rows = session.execute(
                select(PendingWrite.source_key, PendingWrite.marker).where(
                    PendingWrite.tenant == tenant,
                    PendingWrite.flow == flow,
                    PendingWrite.entity == entity,
                )
            )
            return {key: marker for key, marker in rows}

    def forget_pending(self, *, tenant: str, flow: str, entity: str, source_key: str) -> None:
        """The target was checked and does not have the write: it may be sent again."""
        with self._session() as session:
            session.execute(delete(PendingWrite).where(*_pending(tenant, flow, entity, source_key)))

    # -- cursors ------------------------------------------------------------------------------
    def cursor(self, tenant: str, flow: str, name: str) -> str | None:
        with self._session() as session:
            row = session.get(Cursor, (tenant, flow, name))
            return row.value if row else None

    def advance_cursor(self, tenant: str, flow: str, name: str, value: str) -> None:
        with self._session() as session:
            row = session.get(Cursor, (tenant, flow, name))
            if row is None:
                session.add(
                    Cursor(tenant=tenant, flow=flow, name=name, value=value, updated_at=self._now())
                )
            else:
                row.value = value
                row.updated_at = self._now()

    # -- locks --------------------------------------------------------------------------------
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
            taken_over = session.execute(
                update(RunLock)
                .where(RunLock.tenant == tenant, RunLock.flow == flow, RunLock.expires_at < now)
                .values(holder=holder, acquired_at=now, expires_at=now + ttl)
            ).rowcount
            if taken_over == 1:
                return
            current = session.get(RunLock, (tenant, flow))
            if current is not None and _holder_is_dead(current.holder):
                # Its process died on this machine (killed, crashed): the run is not going on.
                taken = session.execute(
                    update(RunLock)
                    .where(
                        RunLock.tenant == tenant,
                        RunLock.flow == flow,
                        RunLock.holder == current.holder,
                    )
                    .values(holder=holder, acquired_at=now, expires_at=now + ttl)
                ).rowcount
                if taken == 1:
                    return
            raise RunLocked(tenant, flow, current.holder if current else "unknown holder")


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


def _sqlite_path(url: str) -> str | None:
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
    path = _sqlite_path(url)
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
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
