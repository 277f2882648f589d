"""The scale benchmark, tiny: it runs end to end and its figures agree with each other
(benchmarks/scale.py). No timing is asserted: speed is what the benchmark prints."""

from __future__ import annotations

import json

from .conftest import load_benchmark

PASS_KEYS = {
    "wall_s",
    "cpu_s",
    "peak_mb",
    "records",
    "written",
    "unchanged",
    "requests",
    "requests_per_record",
    "writes",
    "unavoidable",
    "floor_s",
    "wall_per_floor",
    "cpu_ms_per_record",
    "ledger_mb",
}


def test_the_scale_benchmark_reports_consistent_figures(tmp_path):
    scale = load_benchmark("scale")
    out = tmp_path / "scale.json"
    options = scale.parse(
        [
            "--scale",
            "0.002",
            "--naive-sample",
            "10",
            "--budget",
            "60",
            "--plan-records",
            "2000",
            "--ledger-records",
            "100",
            "--workdir",
            str(tmp_path / "work"),
            "--json-out",
            str(out),
        ]
    )
    summary = scale.run_scale(options, report=lambda line: None)
    out.write_text(json.dumps(summary), encoding="utf-8")
    document = json.loads(out.read_text(encoding="utf-8"))
    table = scale.table(document)

    assert [s["flow"] for s in document["scenarios"]] == list(scale.FLOWS), table
    assert document["answer_ms"] > 0
    latency, concurrency = document["latency_ms"], document["concurrency"]
    assert (latency, concurrency) == (30.0, 4)
    for scenario in document["scenarios"]:
        first, rerun = scenario["first"], scenario["rerun"]
        for one in (first, rerun):
            assert set(one) >= PASS_KEYS, scenario["flow"]
            assert one["exit_code"] in (0, 1), table
            assert one["requests"] > 0, table
            assert 0 < one["unavoidable"] <= one["requests"], table
            # The floor and wall / floor are the printed numbers' own arithmetic.
            assert one["floor_s"] == round(one["unavoidable"] * latency / 1000 / concurrency, 3)
            assert one["wall_per_floor"] == round(one["wall_s"] / one["floor_s"], 3)
            # (a re-run that reads only what changed since the last run may see no records)
            per_record = round(one["requests"] / one["records"], 3) if one["records"] else 0.0
            assert one["requests_per_record"] == per_record
            assert one["records"] == sum(one["counts"].values())
        assert first["written"] > 0, table
        assert first["writes"] >= first["written"], table  # each record written is a write
        assert rerun["writes"] == 0, table
        assert rerun["written"] == 0, table
        naive = scenario["naive"]
        assert naive["sample"] > 0 and naive["ms_per_record"] > 0, table
        assert naive["ratio"] == round(naive["extrapolated_s"] / first["wall_s"], 2), table
        assert naive["extrapolated"] == (naive["sample"] < first["records"])
    hours = next(s for s in document["scenarios"] if s["flow"] == "hours")
    erp_requests = hours["first"]["requests_by_system"]["twentyfourseven"]
    assert hours["erp_requests_per_new_hour"] == round(erp_requests / hours["first"]["written"], 4)

    budget = document["budget"]
    assert budget["budget"] == 60
    assert budget["erp_requests"] > 0 and budget["written"] > 0, table
    assert budget["quarantines"] == max(0, budget["erp_requests"] - 60 * budget["clock_hours"])
    assert budget["exit_code"] in (0, 1), table

    assert document["planning"]["records"] == 2000
    assert sum(document["planning"]["counts"].values()) == 2000
    assert document["ledger"]["records"] == 100
    verdicts = {row["verdict"] for row in document["targets"]}
    assert verdicts <= {"pass", "MISS", "n/a"}
    assert any(row["target"] == "hours: writes on re-run" for row in document["targets"])
