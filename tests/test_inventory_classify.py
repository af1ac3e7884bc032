"""Classification: ABC by value share, XYZ by forecast CV, slow movers, dead stock and actions."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from model.inventory.classify import abc_classes, cash_by_class, classify


def frames():
    skus = pd.DataFrame({"sku_id": list("ABCDE"), "unit_cost": [10.0, 5.0, 2.0, 1.0, 4.0]})
    weeks = pd.date_range("2025-01-06", periods=52, freq="W-MON")
    units = {"A": 100, "B": 60, "C": 30, "D": 5, "E": 0}
    hist = pd.DataFrame([{"sku_id": s, "period_start": w, "units": float(u)} for s, u in units.items() for w in weeks])
    hist.loc[(hist["sku_id"] == "E") & (hist["period_start"] == weeks[0]), "units"] = 3.0  # last sale a year ago
    stock = pd.DataFrame({"sku_id": list("ABCDE"), "on_hand": [200.0, 100.0, 40.0, 400.0, 50.0]})
    fc_rows = []
    for s, (m, spread) in {"A": (100, 20), "B": (60, 50), "C": (30, 80), "D": (5, 5), "E": (0, 0)}.items():
        sd = 1.2815515655446004 * spread             # normal-equivalent sd = spread
        fc_rows.append({"series_id": s, "horizon": 1, "mean": float(m), "q0.1": m - sd, "q0.9": m + sd})
    return skus, stock, hist, pd.DataFrame(fc_rows)


def test_abc_by_cumulative_value_share():
    v = pd.Series({"a": 70.0, "b": 15.0, "c": 10.0, "d": 5.0})
    assert abc_classes(v, (0.8, 0.95)).to_dict() == {"a": "A", "b": "A", "c": "B", "d": "C"}


def test_classify_flags_slow_dead_and_actions():
    skus, stock, hist, fc = frames()
    out = classify(skus, stock, hist, fc, dt.date(2026, 1, 4)).set_index("sku_id")
    assert out.loc["A", "abc"] == "A" and out.loc["D", "abc"] == "C"
    # CV = (q0.9 - q0.1) / (2·1.2816) / mean: A 0.2, B 0.83, C 2.67
    assert out.loc["A", "xyz"] == "X" and out.loc["B", "xyz"] == "Y" and out.loc["C", "xyz"] == "Z"
    assert out.loc["A", "cv"] == pytest.approx(0.2)
    assert out.loc["D", "weeks_of_cover"] == pytest.approx(80.0)
    assert out.loc["D", "slow_mover"] and out.loc["D", "action"] == "stop_reordering"
    assert out.loc["E", "dead_stock"] and out.loc["E", "action"] == "markdown_candidate"
    assert out.loc["A", "action"] == "reorder"
    assert out.loc["A", "stock_value"] == 2000.0
    assert out.loc["C", "sell_through"] == pytest.approx(30 * 13 / (30 * 13 + 40))
    cash = cash_by_class(out.reset_index())
    assert cash.loc[cash["kind"] == "class", "stock_value"].sum() == pytest.approx((out["stock_value"]).sum())


def test_missing_columns_named():
    skus, stock, hist, fc = frames()
    with pytest.raises(ValueError, match="history is missing columns"):
        classify(skus, stock, hist.drop(columns="units"), fc, dt.date(2026, 1, 4))
