"""The bad-input corpus (``tests/corpus/``, see its README): every case through the real
connectors and ``fjordsync run`` against the vendors' sandboxes. Per case: its own record ends as
the corpus says (outcome, the field named, the personal value never shown, the exact text that
arrives). Per flow and batch: every record no case touched ends exactly as in a clean control
run, and a second run right after writes nothing and meets the invalid records again."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from .corpus_harness import (
    FLOWS,
    case_problems,
    load_cases,
    run_flow,
    second_run_problems,
    untouched_problems,
)

CASES = load_cases()
BY_FLOW = {flow: [c for c in CASES if c.flow == flow] for flow in FLOWS}
BATCHES = sorted({(c.flow, c.batch) for c in CASES})


def test_the_corpus_is_large_and_spread_over_the_vendors():
    vendors = Counter(c.file.split("/")[0] for c in CASES)
    assert len(CASES) >= 150, f"only {len(CASES)} cases"
    assert set(vendors) == {"smartdok", "twentyfourseven", "alexis"} and min(vendors.values()) >= 30
    assert set(Counter(c.flow for c in CASES)) == set(FLOWS)


class _Runs:
    """Each flow's control and batch runs, done once per session when first needed."""

    def __init__(self, factory) -> None:
        self.factory = factory
        self.done: dict[str, object] = {}
        self.lock = threading.Lock()

    def __call__(self, flow: str):
        with self.lock:
            if flow not in self.done:
                workdir = self.factory.mktemp(f"corpus-{flow}")
                self.done[flow] = run_flow(flow, BY_FLOW[flow], workdir)
            return self.done[flow]


@pytest.fixture(scope="session")
def corpus_runs(tmp_path_factory):
    return _Runs(tmp_path_factory)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case, corpus_runs):
    runs = corpus_runs(case.flow)
    problems = case_problems(runs, case)
    assert not problems, f"{case.file} {case.id}: " + "; ".join(problems)


@pytest.mark.parametrize("flow,batch", BATCHES, ids=[f"{f}-{b}" for f, b in BATCHES])
def test_every_other_record_ends_as_in_the_control_run(flow, batch, corpus_runs):
    problems = untouched_problems(corpus_runs(flow), batch)
    assert not problems, f"{len(problems)} record(s) differ: " + "; ".join(problems[:10])


@pytest.mark.parametrize("flow,batch", BATCHES, ids=[f"{f}-{b}" for f, b in BATCHES])
def test_a_second_run_writes_nothing_more(flow, batch, corpus_runs):
    problems = second_run_problems(corpus_runs(flow), batch)
    assert not problems, "; ".join(problems[:10])
