"""Bring a ledger database to the current schema with Alembic (migrations ship in the package).

Opening a ledger that is already at the head revision needs no Alembic: importing it costs
about a third of a small run (``fjordsync run projects``), so ``upgrade`` first compares the
database's ``alembic_version`` with the head of the shipped migrations, read with SQLAlchemy
Core, and imports Alembic only when they differ (a new ledger, or one an older fjordsync made).

The head is read from the migration files themselves (their ``revision`` and ``down_revision``
assignments, parsed, not imported), so there is no second copy of it to forget when a migration
is added; a test holds it equal to what Alembic's ``ScriptDirectory`` says.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "SCRIPT_LOCATION",
    "alembic_config",
    "current_revisions",
    "head_revisions",
    "read_heads",
    "upgrade",
]

SCRIPT_LOCATION = "fjordsync.ledger:migrations"
VERSIONS_DIR = Path(__file__).parent / "migrations" / "versions"
# Alembic's default version table (migrations/env.py sets no other).
VERSION_TABLE = "alembic_version"
# The files Alembic reads as revisions (alembic.script.base._only_source_rev_file).
_REVISION_FILE = re.compile(r"(?!\.\#|__init__)(.*\.py)$")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["engine"] = engine
    return config


def _assigned(source: str, name: str) -> object:
    """The literal a module assigns to ``name`` on one line at its top (``x = ...`` or
    ``x: T = ...``). Read line by line, not with ``ast.parse``: a migration's whole syntax
    tree costs more than the rest of the check."""
    line = re.search(rf"^{name}\s*(?::[^=\n]*)?=\s*(.+?)\s*$", source, re.MULTILINE)
    if line is None:
        raise LookupError(name)
    return ast.literal_eval(line.group(1))


def _as_set(value: object) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        return {value}
    if isinstance(value, (tuple, list)) and all(isinstance(item, str) for item in value):
        return set(value)
    raise ValueError(f"not a revision: {value!r}")


@functools.cache
def head_revisions() -> frozenset[str] | None:
    """The head revisions of the shipped migrations (read once a process)."""
    return read_heads(VERSIONS_DIR)


def read_heads(versions: Path) -> frozenset[str] | None:
    """The head revisions of the migrations in ``versions``, read from the files' text; None
    when a file does not say plainly (then Alembic, which imports them, decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        for path in sorted(versions.iterdir()):
            if not _REVISION_FILE.match(path.name):
                continue
            source = path.read_text(encoding="utf-8")
            revision = _assigned(source, "revision")
            if not isinstance(revision, str):
                return None
            revisions.add(revision)
            parents |= _as_set(_assigned(source, "down_revision"))
    except (OSError, SyntaxError, LookupError, ValueError):
        return None
    heads = frozenset(revisions - parents)
    return heads or None


def current_revisions(engine: Engine) -> frozenset[str]:
    """The revisions the database is stamped with (none for a database Alembic never saw)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return frozenset()
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        return frozenset(str(row[0]) for row in rows)


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head":
        heads = head_revisions()
        if heads is not None and current_revisions(engine) == heads:
            return
    # Imported here: only a ledger that needs migrating pays for Alembic.
    from alembic import command

    command.upgrade(alembic_config(engine), revision)
