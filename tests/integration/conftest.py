"""Fixtures for integration tests: ledgers on SQLite and, when a server is given, PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from fjordsync.ledger.schema import Base

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("FJORDSYNC_TEST_POSTGRES_URL")


def _empty_postgres(url: str) -> str:
    engine = create_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    if not POSTGRES_URL:
        pytest.skip(
            "set FJORDSYNC_TEST_POSTGRES_URL to run the PostgreSQL ledger tests "
            "(.ci/run starts a server and sets it)"
        )
    return _empty_postgres(POSTGRES_URL)


def fjordsync(*args, env=None, cwd=ROOT, check=False):
    """Run the installed ``fjordsync`` command as a user would."""
    command = [str(Path(sys.executable).parent / "fjordsync"), *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=check,
        timeout=120,
    )
