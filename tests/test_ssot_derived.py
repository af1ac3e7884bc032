"""model.ssot.derived: hand-computed demand/price/stock/lead-time tables on a tiny store."""
import datetime as dt

import pandas as pd
import pytest

from model.ssot import derived


@pytest.fixture
def tiny(store):
    con = store
    con.execute("INSERT INTO supplier VALUES ('S1', 'Sup', 10, 2, 0)")
    con.execute("INSERT INTO location VALUES ('DC', 'DC', 'warehouse', NULL, NULL, 1000, NULL),"
                "('WEB', 'Web', 'web', NULL, NULL, NULL, NULL)")
    con.execute("INSERT INTO sku (sku_id, category, unit_cost, list_price, case_pack, supplier_id) VALUES "
                "('A', 'c1', 5, 10, 6, 'S1'), ('B', 'c1', 2, 4, NULL, 'S1')")
    # week of 2024-01-01 (Mon): A sells 3 @10 and 1 @8 (promo); week of 01-15: A sells 2 @10; B only in week 01-08
    con.execute("""INSERT INTO sales VALUES
        ('o1', 0, '2024-01-01 10:00', 'A', 'WEB', 3, 10, false, NULL),
        ('o2', 0, '2024-01-03 12:00', 'A', 'WEB', 1, 8, true, NULL),
        ('o3', 0, '2024-01-16 09:00', 'A', 'DC', 2, 10, false, NULL),
        ('o4', 0, '2024-01-09 09:00', 'B', 'WEB', 5, NULL, NULL, NULL)""")
    con.execute("""INSERT INTO inventory VALUES ('2024-01-08', 'A', 'WEB', 0, 0), ('2024-01-09', 'A', 'WEB', 0, 12),
        ('2024-01-10', 'A', 'WEB', 4, 0)""")
    con.execute("INSERT INTO competitor_prices VALUES ('2024-01-02', 'A', 'X', 9), ('2024-01-02', 'A', 'Y', 11)")
    con.execute("""INSERT INTO purchase_orders VALUES ('P1', 'A', 'S1', 'DC', '2024-01-01', NULL, 12, 5),
        ('P2', 'A', 'S1', 'DC', '2024-02-01', NULL, 12, 5)""")
    con.execute("INSERT INTO receipts VALUES ('P1', 'A', '2024-01-09', 12), ('P2', 'A', '2024-02-13', 12)")
    return con


def test_weekly_demand_history_zero_fills_and_aggregates(tiny):
    h = derived.demand_history(tiny, "W", "sku")
    a = h[h.sku_id == "A"].reset_index(drop=True)
    assert list(a.period_start) == [dt.date(2024, 1, 1), dt.date(2024, 1, 8), dt.date(2024, 1, 15)]
    assert list(a.units) == [4.0, 0.0, 2.0]
    assert a.revenue[0] == pytest.approx(38.0)
    assert a.avg_price[0] == pytest.approx(9.5)
    assert a.avg_price[1] == pytest.approx(9.5)  # carried forward over the empty week
    assert a.promo_share[0] == pytest.approx(0.25)
    assert a.stockout_days[1] == 2 and bool(a.censored[1])
    assert not a.censored[0]
    assert a.competitor_price[0] == pytest.approx(10.0)
    b = h[h.sku_id == "B"]
    assert list(b.units) == [5.0, 0.0]  # first sale in week 2, zero-filled to the last week
    assert h.units.sum() == pytest.approx(11.0)  # nothing lost


def test_sku_location_level_and_monthly(tiny):
    h = derived.demand_history(tiny, "W", "sku_location")
    assert set(h.series_id) == {"A@WEB", "A@DC", "B@WEB"}
    m = derived.demand_history(tiny, "M")
    assert m.groupby("sku_id").units.sum().to_dict() == {"A": 6.0, "B": 5.0}
    with pytest.raises(ValueError, match="freq"):
        derived.demand_history(tiny, "Q")


def test_price_history_stock_and_lead_times(tiny):
    p = derived.price_history(tiny, "W")
    assert list(p.sku_id) == ["A", "A"]  # B never had a price
    assert p.avg_price.tolist() == pytest.approx([9.5, 10.0])
    assert p.competitor_price.tolist() == pytest.approx([10.0, 10.0])
    s = derived.stock_positions(tiny)
    assert s.loc[0, "on_hand"] == 4 and s.loc[0, "snapshot_date"] == dt.date(2024, 1, 10)
    s2 = derived.stock_positions(tiny, as_of="2024-01-09")
    assert s2.loc[0, "on_order"] == 12
    lt = derived.lead_time_stats(tiny).set_index("sku_id")
    assert lt.loc["A", "lead_time_mean_days"] == pytest.approx(10.0)  # 8 and 12 days
    assert lt.loc["A", "lead_time_sd_days"] == pytest.approx(pd.Series([8.0, 12.0]).std())
    assert lt.loc["A", "source"] == "receipts" and lt.loc["B", "source"] == "master"
    assert lt.loc["B", "lead_time_mean_days"] == 10
    m = derived.sku_master(tiny).set_index("sku_id")
    assert m.loc["B", "case_pack"] == 1 and m.loc["A", "lead_time_sd_days"] == 2
