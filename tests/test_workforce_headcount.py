"""model.workforce.headcount: core for the base load, temps for peak months, flex for small overflows."""
import pandas as pd
import pytest

from model.workforce.headcount import plan_headcount
from scenarios.schema import WorkforceConfig

CFG = WorkforceConfig(fte_hours_per_week=40, shrinkage=0.0, flex_max_share=0.1, flex_premium=1.25,
                      temp_premium=1.35, hiring_lead_weeks=4)


def weeks(hours):
    return pd.DataFrame({"week_start": pd.date_range("2026-01-05", periods=len(hours), freq="W-MON"),
                         "hours": hours})


def test_flat_load_is_all_core():
    plan, r = plan_headcount(weeks([400.0] * 52), CFG, cost=20)
    assert r.status.value == "optimal"
    assert set(plan["core"]) == {10} and plan["temps"].sum() == 0 and plan["flex_hours"].sum() == pytest.approx(0)
    assert plan["cost"].sum() == pytest.approx(52 * 400 * 20)


def test_peak_month_is_covered_by_temps_not_core():
    hours = [400.0] * 52
    dec = [i for i, w in enumerate(weeks(hours)["week_start"]) if w.month == 12]
    for i in dec:
        hours[i] = 800.0
    plan = plan_headcount(weeks(hours), CFG, cost=20)[0].set_index("month")
    assert set(plan["core"]) == {10}
    # 400 extra hours a week: 1 flex hour per core person-hour is capped at 10 %, temps do the rest
    assert plan.loc["2026-12", "temps"] == 9 and plan.loc["2026-12", "flex_hours"] == pytest.approx(40 * len(dec))
    assert plan.drop("2026-12")["temps"].sum() == 0
    assert str(plan.loc["2026-12", "hire_by"]) == "2026-11-03"     # 4 weeks before 1 December


def test_shrinkage_raises_core():
    plan, _ = plan_headcount(weeks([400.0] * 52), CFG.model_copy(update={"shrinkage": 0.2}), cost=20)
    assert set(plan["core"]) == {12}      # 10 / 0.8 = 12.5 → 12 core + 10 % flex


def test_negative_hours_rejected():
    with pytest.raises(ValueError, match="hours"):
        plan_headcount(weeks([-1.0]), CFG, cost=20)
