"""The request budget shared by the runs of one machine through a locked file: what one process
spends the next one knows, what it did not spend it gives back, the server's count is believed
and the file names no credential."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest

from fjordsync.budget import FileRateBudget, credential_hash, local_budget
from fjordsync.errors import RateLimited, Unavailable

API = "https://API.24sevenoffice.com/"
USER = "Integrasjon@Firma.no"
NOON = datetime(2026, 8, 1, 12, 30, tzinfo=UTC)


def budget(tmp_path, per_hour, *, clock=lambda: NOON, block=20):
    return FileRateBudget(tmp_path / "budget.json", per_hour, block=block, clock=clock)


def stored(tmp_path):
    return json.loads((tmp_path / "budget.json").read_text())


def spend(b, times):
    for _ in range(times):
        b.spend("TimeService.SaveHour")


def test_a_second_process_knows_what_the_first_spent(tmp_path):
    first = budget(tmp_path, 60)
    spend(first, 60)
    with pytest.raises(RateLimited) as caught:
        first.spend("TimeService.SaveHour")
    second = budget(tmp_path, 60)  # a new run: a new object, the same file
    with pytest.raises(RateLimited) as again:
        second.spend("Authenticate.Login")
    for error in (caught.value, again.value):
        assert error.message == (
            "the budget of 60 requests an hour is spent; the rest of the work goes on after "
            "13:00 UTC"
        )
        assert error.resume_at == datetime(2026, 8, 1, 13, tzinfo=UTC)
    assert (second.used, second.remaining) == (60, 0)
    assert stored(tmp_path) == {"hour": "2026080112", "used": 60, "floor": 0}


def test_blocks_are_reserved_and_what_was_not_spent_is_given_back(tmp_path):
    first = budget(tmp_path, 7200)
    spend(first, 3)
    assert stored(tmp_path)["used"] == 20  # one block reserved for three requests
    assert first.used == 3
    other = budget(tmp_path, 7200)
    spend(other, 1)
    assert stored(tmp_path)["used"] == 40
    assert other.used == 21  # its own one and the first process's block
    first.release()
    assert stored(tmp_path)["used"] == 23
    first.release()  # twice is once
    assert stored(tmp_path)["used"] == 23
    other.release()
    assert stored(tmp_path)["used"] == 4


def test_blocks_shrink_as_the_hour_runs_low_so_the_whole_budget_is_spent(tmp_path):
    b = budget(tmp_path, 60)
    taken = []
    for _ in range(60):
        before = b._held
        b.spend("GetHours")
        if before == 0:
            taken.append(b._held + 1)
    assert taken == [15, 11, 8, 6, 5, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1]
    assert sum(taken) == 60 and stored(tmp_path)["used"] == 60


def test_a_killed_process_loses_at_most_one_block(tmp_path):
    killed = budget(tmp_path, 100)
    spend(killed, 2)  # and never released
    survivor = budget(tmp_path, 100)
    spent = 0
    with pytest.raises(RateLimited):
        while True:
            survivor.spend("GetHours")
            spent += 1
    assert spent == 100 - 20


def test_a_new_hour_starts_from_nothing(tmp_path):
    now = [NOON]
    b = budget(tmp_path, 10, clock=lambda: now[0])
    spend(b, 10)
    with pytest.raises(RateLimited):
        b.spend("GetHours")
    now[0] = NOON + timedelta(hours=1)
    spend(b, 10)
    assert stored(tmp_path) == {"hour": "2026080113", "used": 10, "floor": 0}
    assert b.resets_at == datetime(2026, 8, 1, 14, tzinfo=UTC)
    b.release()  # nothing held: nothing changes
    assert stored(tmp_path)["used"] == 10


def test_what_was_held_in_an_hour_that_is_over_is_not_given_back_to_the_next(tmp_path):
    now = [NOON]
    b = budget(tmp_path, 100, clock=lambda: now[0])
    spend(b, 1)
    now[0] = NOON + timedelta(hours=1)
    other = budget(tmp_path, 100, clock=lambda: now[0])
    spend(other, 1)
    b.release()
    assert stored(tmp_path) == {"hour": "2026080113", "used": 20, "floor": 0}


def test_the_servers_count_is_believed_and_kept_for_the_next_run(tmp_path):
    b = budget(tmp_path, 7200)
    spend(b, 1)
    b.observe("7199")  # its own one request: the file says as much already
    assert stored(tmp_path) == {"hour": "2026080112", "used": 20, "floor": 0}
    b.observe("100")  # another use of the login spent most of the hour
    assert stored(tmp_path) == {"hour": "2026080112", "used": 7119, "floor": 7100}
    assert (b.used, b.remaining) == (7100, 100)
    b.observe("3")
    assert b._held == 3  # never more held than the server says is left
    b.release()
    assert stored(tmp_path)["used"] == 7197
    nxt = budget(tmp_path, 7200)
    spend(nxt, 3)
    with pytest.raises(RateLimited):
        nxt.spend("GetHours")


def test_what_is_given_back_never_goes_below_what_the_server_has_seen(tmp_path):
    b = budget(tmp_path, 100)
    other = budget(tmp_path, 100)
    spend(b, 1)
    spend(other, 1)  # 20 + 20 reserved
    b.observe("60")  # the server saw 40 requests
    other.release()  # gives back 19 of the 40 in the file
    b.release()
    assert stored(tmp_path) == {"hour": "2026080112", "used": 40, "floor": 40}


@pytest.mark.parametrize("remaining", [None, "", "n/a", "-"])
def test_an_unreadable_remaining_changes_nothing(tmp_path, remaining):
    b = budget(tmp_path, 10)
    spend(b, 1)
    b.observe(remaining)
    assert (b.used, stored(tmp_path)["used"]) == (1, 2)


def test_an_unreadable_file_starts_the_hour_over(tmp_path):
    (tmp_path / "budget.json").write_bytes(b'{"hour": "2026080112", "us')
    b = budget(tmp_path, 10)
    spend(b, 1)
    assert stored(tmp_path) == {"hour": "2026080112", "used": 2, "floor": 0}


def test_without_the_file_no_request_goes_out_and_no_path_is_named(tmp_path):
    b = FileRateBudget(tmp_path / "gone" / "budget.json", 10, clock=lambda: NOON)
    with pytest.raises(Unavailable) as caught:
        b.spend("Authenticate.Login")
    assert caught.value.message == (
        "the request budget kept in the user's state directory cannot be read or written "
        "(FileNotFoundError)"
    )
    assert caught.value.operation == "Authenticate.Login"
    b.observe("3")  # on an answer already received: never raises
    b.release()


def test_the_file_is_private_and_named_by_a_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    b = local_budget(API, USER, 50)
    assert b is not None
    b.spend("Authenticate.Login")
    directory = tmp_path / "state" / "fjordsync" / "budgets"
    assert b.path == directory / f"{credential_hash(API, USER)}.json"
    assert b.path == local_budget(API.lower().rstrip("/"), USER.lower(), 50).path
    for private, mode in ((directory.parent, 0o700), (directory, 0o700), (b.path, 0o600)):
        assert stat.S_IMODE(os.stat(private).st_mode) == mode
    text = b.path.read_text()
    assert "integrasjon" not in text.lower() and "firma" not in text.lower()


def test_a_file_others_can_read_is_made_private(tmp_path):
    path = tmp_path / "budget.json"
    path.write_text("{}")
    path.chmod(0o644)
    budget(tmp_path, 10).spend("GetHours")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_without_a_state_directory_the_budget_is_per_process(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert local_budget(API, USER, 50, directory=blocker / "budgets") is None
    assert "counted per process" in caplog.text
    assert USER not in caplog.text


def test_without_file_locks_the_budget_is_per_process(tmp_path, monkeypatch, caplog):
    import fjordsync.budget as module

    monkeypatch.setattr(module, "fcntl", None)
    assert local_budget(API, USER, 50, directory=tmp_path) is None
    assert "no file locks" in caplog.text


def _noon() -> datetime:
    return NOON  # one hour for every process, whenever the test runs


def _spend_all(path: str, per_hour: int, out) -> None:
    b = FileRateBudget(path, per_hour, block=5, clock=_noon)
    spent = 0
    try:
        while True:
            b.spend("GetHours")
            spent += 1
    except RateLimited:
        out.put(spent)


def test_processes_side_by_side_never_spend_more_than_the_hour_together(tmp_path):
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [
        context.Process(target=_spend_all, args=(str(tmp_path / "budget.json"), 500, out))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    spent = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert sum(spent) == 500
