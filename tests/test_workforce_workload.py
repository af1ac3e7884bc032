"""model.workforce.workload: profiles from real timestamps, opening hours, labour standards, Erlang C."""
import math

import numpy as np
import pytest

from model.workforce.history import (bakery_receipt_timestamps, favorita_daily_transactions,
                                     olist_purchase_timestamps, rossmann_daily_customers)
from model.workforce.workload import (apply_open_hours, combine_profiles, day_of_week_profile, erlang_c,
                                      erlang_staff, hour_of_week_profile, role_requirements,
                                      staff_requirements)
from scenarios.schema.workforce import RoleConfig


def test_olist_orders_arrive_by_day_not_at_night(shared_data):
    p = hour_of_week_profile(olist_purchase_timestamps(shared_data))
    assert p.shape == (7, 24) and p.sum() == pytest.approx(1)
    by_hour = p.sum(axis=0)
    assert by_hour[2:6].sum() < 0.02 < by_hour[10:12].sum() / 2     # 02–06 nearly empty
    assert p[:5].sum() > 5 / 7 * 0.95                               # weekdays carry more than their share


def test_bakery_is_closed_at_night_and_peaks_late_morning(shared_data):
    p = hour_of_week_profile(bakery_receipt_timestamps(shared_data))
    by_hour = p.sum(axis=0)
    assert by_hour[:7].sum() < 1e-3 and int(np.argmax(by_hour)) in (10, 11, 12)


def test_rossmann_store_closed_on_sunday_and_favorita_weekend_peak(shared_data):
    r = rossmann_daily_customers(shared_data)
    assert day_of_week_profile(r["date"], r["count"])[6] == 0
    f = favorita_daily_transactions(shared_data)
    delta = day_of_week_profile(f["date"], f["count"])
    assert delta.sum() == pytest.approx(1) and int(np.argmax(delta)) == 5   # Saturday


def test_combine_and_open_hours_conserve_volume():
    day = np.full(7, 1 / 7)
    pi = combine_profiles(day, np.ones(24))
    shifted = apply_open_hours(pi, (8, 20))
    assert shifted.sum() == pytest.approx(1)
    assert shifted[:, :8].sum() == 0 and shifted[:, 20:].sum() == 0
    assert shifted[1, 8] == pytest.approx(13 / 168)                 # 20:00 Monday .. 08:00 Tuesday arrives at 8


def test_labour_standard_ceil():
    pi = np.zeros((7, 24))
    pi[2, 10] = 1.0
    req = role_requirements(601, pi, RoleConfig(driver="lines", per_hour=60), (0, 24))
    assert req[2, 10] == 11 and req.sum() == 11


def erlang_c_via_erlang_b(c, a):
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1 - rho * (1 - b))


@pytest.mark.parametrize("c, a", [(1, 0.5), (3, 2.2), (10, 8.0), (40, 35.5)])
def test_erlang_c_agrees_with_erlang_b_route(c, a):
    assert erlang_c(c, a) == pytest.approx(erlang_c_via_erlang_b(c, a), rel=1e-10)


def test_erlang_c_single_server_is_utilisation():
    assert erlang_c(1, 0.7) == pytest.approx(0.7)


def test_erlang_staff_meets_target_minimally():
    lam, tau, target, t = 200.0, 3.0, 0.8, 20.0                     # a = 10 Erlang
    c = erlang_staff(lam, tau, target, t)
    sl = lambda n: 1 - erlang_c(n, 10.0) * math.exp(-(n - 10.0) * t / (tau * 60))
    assert sl(c) >= target > sl(c - 1) and c == 14   # the classic 100 calls/30 min, 180 s, 80/20 example
    assert erlang_staff(0, tau, target, t) == 0


def test_staff_requirements_table():
    pi = np.full((7, 24), 1 / 168)
    roles = {"pick": RoleConfig(driver="lines", per_hour=50), "cashier": RoleConfig(
        driver="transactions", customer_facing=True, handle_time_min=2, min_staff=1)}
    df = staff_requirements({"lines": 168 * 100, "transactions": 168 * 30}, {"pick": pi, "cashier": pi},
                            roles, (8, 20))
    pick = df[df.role == "pick"]
    assert pick["volume"].sum() == pytest.approx(168 * 100)
    assert set(df.columns) == {"role", "day", "hour", "volume", "required"}
    with pytest.raises(ValueError, match="orders"):
        staff_requirements({"lines": 1}, {"p": pi}, {"p": RoleConfig(driver="orders")}, (0, 24))
