"""model.workforce.validate: hand-made violations of every rule are caught; a clean roster passes."""
import pandas as pd
import pytest

from model.workforce.hourly import hourly_roster_data
from model.workforce.roster import Employee
from model.workforce.validate import coverage_table, validate_roster
from scenarios.schema import WorkforceConfig

CFG = WorkforceConfig(shift_starts=[6, 14, 18], shift_lengths_h=[4, 8], break_minutes=0)
EMP = Employee("E1", ("pick",), 20.0, min_minutes=8 * 60, max_minutes=24 * 60, max_consecutive_days=2,
               min_days_off_per_week=2, unavailable_days=frozenset({5}), max_weekends=0)
REQ = pd.DataFrame([{"role": "pick", "day": 0, "hour": 6, "required": 1}])
DATA = hourly_roster_data(REQ, [EMP], CFG, 7)


def shift(day, start, length, role="pick", emp="E1"):
    return {"employee_id": emp, "day": day, "template": f"{start:02d}+{length}", "role": role,
            "start_hour": start, "end_hour": start + length, "paid_hours": length, "cost": 20.0 * length}


def rules(rows):
    return set(validate_roster(pd.DataFrame(rows), DATA, rest_hours=11)["rule"])


def test_clean_roster_passes():
    assert rules([shift(0, 6, 8), shift(2, 6, 8)]) == set()


@pytest.mark.parametrize("rows, rule", [
    ([shift(0, 18, 4), shift(1, 6, 8)], "rest"),                                  # 8 h rest
    ([shift(0, 6, 4)], "contract_hours"),                                         # 4 h < 8 h minimum
    ([shift(d, 6, 8) for d in (0, 1, 2)] + [shift(3, 6, 4)], "contract_hours"),   # 28 h > 24 h
    ([shift(0, 6, 4), shift(1, 6, 4), shift(2, 6, 4)], "max_consecutive_days"),
    ([shift(0, 6, 8), shift(0, 18, 4)], "one_shift_per_day"),
    ([shift(0, 6, 8, role="pack")], "skills"),
    ([shift(5, 6, 8)], "availability"),
    ([shift(6, 6, 8)], "max_weekends"),
    ([shift(0, 6, 8), shift(3, 6, 4, emp="X9")], "unknown_employee"),
])
def test_each_violation_is_caught(rows, rule):
    assert rule in rules(rows)


def test_days_off_per_week():
    emp = Employee("E1", ("pick",), 20.0, max_minutes=60 * 60, min_days_off_per_week=2)
    data = hourly_roster_data(REQ, [emp], CFG, 7)
    rows = [shift(d, 6, 4) for d in range(6)]
    assert set(validate_roster(pd.DataFrame(rows), data)["rule"]) == {"days_off"}


def test_coverage_counts_shift_hours():
    cov = coverage_table(pd.DataFrame([shift(0, 6, 4)]), DATA).set_index("key")
    assert cov.loc[6, "scheduled"] == 1 and cov.loc[10, "scheduled"] == 0
    assert cov["over"].sum() == 3 and cov["shortfall"].sum() == 0
