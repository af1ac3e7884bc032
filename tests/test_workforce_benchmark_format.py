"""Curtois & Qu benchmark instances 1 and 2: the roster program reproduces the published optima."""
import time

import pytest

from model.workforce.benchmark_format import evaluate, read_instance, to_roster_data
from model.workforce.roster import solve_roster
from solvers import SolveOptions


@pytest.mark.parametrize("name, optimum", [("Instance1", 607), ("Instance2", 828)])
def test_published_optimum(shared_data, name, optimum):
    inst = read_instance(shared_data / "rostering_benchmark" / f"{name}.txt")
    t0 = time.perf_counter()
    res = solve_roster(to_roster_data(inst), SolveOptions(time_limit_s=60, mip_rel_gap=0))
    assert time.perf_counter() - t0 <= 60
    assert res.solve.status.value == "optimal"
    assert res.objective == pytest.approx(optimum, abs=1e-6)
    # scored again from the instance file alone: same penalty, no hard-constraint violation
    penalty, violations = evaluate(inst, {(r.employee_id, r.day): r.template for r in res.roster.itertuples()})
    assert (penalty, violations) == (optimum, [])


def test_reader_fields(shared_data):
    inst = read_instance(shared_data / "rostering_benchmark" / "Instance2.txt")
    assert inst.horizon == 14 and inst.shift_minutes == {"E": 480, "L": 480}
    assert inst.cannot_follow == {"E": set(), "L": {"E"}}
    k = next(s for s in inst.staff if s.id == "K")
    assert (k.max_shifts, k.max_minutes, k.min_minutes, k.min_consecutive) == ({"E": 0, "L": 14}, 2160, 1200, 1)
    assert inst.cover[2, "L"] == (6, 100, 1) and inst.on_requests["F", 3, "L"] == 3


def test_evaluate_counts_hard_violations(shared_data):
    inst = read_instance(shared_data / "rostering_benchmark" / "Instance1.txt")
    _, bad = evaluate(inst, {("A", 0): "D"})   # A's day off, and far below the minimum minutes
    assert any("day 0 is a day off" in b for b in bad) and any("minutes outside" in b for b in bad)


def test_malformed_file_names_line(shared_data, tmp_path):
    text = (shared_data / "rostering_benchmark" / "Instance1.txt").read_text().splitlines()
    i = text.index("14")                      # the horizon line
    text[i] = "fourteen"
    p = tmp_path / "bad.txt"
    p.write_text("\n".join(text))
    with pytest.raises(ValueError, match=rf"bad.txt:{i + 1}: SECTION_HORIZON"):
        read_instance(p)
