"""Opening a ledger imports Alembic only when the ledger needs migrating (issue 12: the CLI's
fixed cost), and the head it compares with is the shipped migrations' own."""

import subprocess
import sys
import textwrap

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from fjordsync.ledger import Ledger, migrate


def _alembic_heads() -> frozenset[str]:
    config = Config()
    config.set_main_option("script_location", migrate.SCRIPT_LOCATION)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _stamp(url: str) -> frozenset[str]:
    engine = create_engine(url)
    try:
        return migrate.current_revisions(engine)
    finally:
        engine.dispose()


def _open_in_subprocess(url: str) -> str:
    """Open the ledger in a fresh interpreter; print whether Alembic got imported."""
    code = textwrap.dedent(
        f"""
        import sys
        from fjordsync.ledger import Ledger
        Ledger({url!r})
        print("alembic" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


def test_the_head_read_from_the_files_is_alembics():
    assert migrate.head_revisions() == _alembic_heads()


def test_a_fresh_ledger_is_migrated_to_the_head(ledger_url):
    Ledger(ledger_url)
    assert _stamp(ledger_url) == _alembic_heads()
    engine = create_engine(ledger_url)
    assert "schedules" in inspect(engine).get_table_names()
    engine.dispose()


def test_an_up_to_date_ledger_opens_without_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    Ledger(url)
    assert _open_in_subprocess(url) == "False"
    assert _stamp(url) == _alembic_heads()


def test_a_new_ledger_imports_alembic_to_migrate(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert _open_in_subprocess(url) == "True"
    assert _stamp(url) == _alembic_heads()


def test_an_older_ledger_is_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    store = Ledger(url, upgrade=False)
    migrate.upgrade(store.engine, "0002")
    assert migrate.current_revisions(store.engine) == {"0002"}
    assert "schedules" not in inspect(store.engine).get_table_names()
    store.close()
    assert _open_in_subprocess(url) == "True"
    assert _stamp(url) == _alembic_heads()
    engine = create_engine(url)
    assert "schedules" in inspect(engine).get_table_names()
    engine.dispose()


def test_a_database_alembic_never_saw_has_no_revision(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert migrate.current_revisions(engine) == frozenset()
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
    assert migrate.current_revisions(engine) == frozenset()
    engine.dispose()


def test_heads_follow_the_chain_of_the_files(tmp_path):
    (tmp_path / "__init__.py").write_text("revision = 'ignored'\n")
    (tmp_path / "a.py").write_text("revision = 'a'\ndown_revision = None\n")
    (tmp_path / "b.py").write_text("revision: str = 'b'\ndown_revision: str | None = 'a'\n")
    (tmp_path / "c.py").write_text("revision = 'c'\ndown_revision = 'a'\n")
    (tmp_path / "d.py").write_text("revision = 'd'\ndown_revision = ('b', 'c')\n")
    (tmp_path / "notes.txt").write_text("revision = 'x'\n")
    assert migrate.read_heads(tmp_path) == {"d"}
    (tmp_path / "e.py").write_text("revision = make_revision()\ndown_revision = 'd'\n")
    assert migrate.read_heads(tmp_path) is None  # not plain: Alembic decides
