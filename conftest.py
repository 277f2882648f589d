"""Set-up for every test, the plugins' included: fjordsync's per-user state (the log file, the
24SevenOffice request budgets counted across runs) goes to a directory of this test session,
never the user's own, so no test sees what another session, or an earlier test on a sandbox
port used again, left there. Tests that need their own set XDG_STATE_HOME themselves."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_state_home(tmp_path_factory):
    previous = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state-home"))
    yield
    if previous is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = previous
