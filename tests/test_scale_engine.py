"""Engine portability: the derived tables give identical rows on DuckDB and Spark (local mode); the fan-out
gives identical frames in-process, on a process pool and on Spark."""
import shutil

import numpy as np
import pandas as pd
import pytest

from model import fanout
from model.ssot import derived

pyspark = pytest.importorskip("pyspark", reason="the spark extra is installed by .ci/setup")
pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.fail("Java is required for the Spark engine tests (.ci/setup installs it)")
    from model.ssot.engine import spark_session
    from scenarios.schema.data import EngineConfig
    s = spark_session(EngineConfig(kind="spark", spark_master="local[2]"))
    yield s


@pytest.fixture
def filled(store):
    con = store
    rng = np.random.default_rng(5)
    con.execute("INSERT INTO supplier VALUES ('S1', 'Sup', 10, 2, 0)")
    con.execute("INSERT INTO location VALUES ('DC', 'DC', 'warehouse', NULL, NULL, 1000, NULL),"
                "('WEB', 'Web', 'web', NULL, NULL, NULL, NULL)")
    skus = [f"K{i}" for i in range(6)]
    con.executemany("INSERT INTO sku (sku_id, category, unit_cost, list_price, case_pack, supplier_id) "
                    "VALUES (?, ?, ?, ?, ?, 'S1')",
                    [(s, f"c{i % 2}", 2.0 + i, 5.0 + i, 1 + i % 3) for i, s in enumerate(skus)])
    n = 400
    sales_df = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(n)], "line_no": 0,
        "ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90 * 24 * 60, n), unit="min"),
        "sku_id": rng.choice(skus, n), "location_id": rng.choice(["DC", "WEB"], n),
        "units": rng.integers(1, 5, n).astype(float), "unit_price": rng.uniform(4, 12, n).round(2),
        "promo": rng.random(n) < 0.2, "customer_id": None})
    con.execute("INSERT INTO sales SELECT * FROM sales_df")
    inv = pd.DataFrame([(pd.Timestamp("2024-01-01") + pd.Timedelta(days=d), s, "DC",
                         float(max(0, 20 - d % 25)), 0.0) for d in range(90) for s in skus],
                       columns=["snapshot_date", "sku_id", "location_id", "on_hand", "on_order"])
    inv["snapshot_date"] = inv["snapshot_date"].dt.date
    con.execute("INSERT INTO inventory SELECT * FROM inv")
    con.execute("INSERT INTO competitor_prices VALUES ('2024-01-02', 'K1', 'X', 9), ('2024-02-02', 'K1', 'X', 8)")
    con.execute("INSERT INTO purchase_orders VALUES ('P1', 'K1', 'S1', 'DC', '2024-01-01', NULL, 12, 5),"
                "('P2', 'K1', 'S1', 'DC', '2024-02-01', NULL, 12, 5)")
    con.execute("INSERT INTO receipts VALUES ('P1', 'K1', '2024-01-09', 12), ('P2', 'K1', '2024-02-13', 12)")
    return con


@pytest.mark.parametrize("fn,kwargs", [
    ("demand_history", {"freq": "W"}), ("demand_history", {"freq": "D", "level": "sku_location"}),
    ("demand_history", {"freq": "M"}), ("price_history", {"freq": "W"}), ("stock_positions", {}),
    ("lead_time_stats", {}), ("sku_master", {})])
def test_derived_tables_identical_on_duckdb_and_spark(filled, spark, fn, kwargs):
    from model.ssot.engine import backend, mirror_tables
    from scenarios.schema.data import EngineConfig
    mirror_tables(filled, spark)
    a = getattr(derived, fn)(filled, **kwargs)
    b = getattr(derived, fn)(backend(EngineConfig(kind="spark"), spark=spark), **kwargs)
    assert len(a) > 0
    money = [c for c in a.columns if c in ("revenue", "avg_price", "competitor_price", "unit_cost", "list_price")]
    pd.testing.assert_frame_equal(a.drop(columns=money), b.drop(columns=money), check_dtype=False)
    for c in money:  # money columns within a tolerance (float summation order differs)
        np.testing.assert_allclose(a[c].astype(float), b[c].astype(float), rtol=1e-9, equal_nan=True)


def _lot_for_lot_cost(g: pd.DataFrame) -> pd.DataFrame:
    """A per-group stand-in for a per-SKU solve: cumulative demand and a seeded noise column."""
    rng = np.random.default_rng(int(g["seed"].iloc[0]))
    return pd.DataFrame({"sku_id": g["sku_id"], "week": g["week"], "cum": g["demand"].cumsum(),
                         "noise": rng.normal(size=len(g))})


def test_fanout_identical_local_pool_and_spark(spark):
    import sys

    from pyspark import cloudpickle  # ship this test module's function by value (the project ships as a wheel)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"sku_id": np.repeat([f"S{i:03d}" for i in range(40)], 8), "week": np.tile(range(8), 40),
                       "demand": rng.poisson(5, 320).astype(float)})
    df["seed"] = df["sku_id"].str[1:].astype(int)
    a = fanout.map_groups(df, "sku_id", _lot_for_lot_cost)
    b = fanout.map_groups(df, "sku_id", _lot_for_lot_cost, workers=2)
    c = fanout.map_groups(df, "sku_id", _lot_for_lot_cost, engine="spark", spark=spark)
    assert len(a) == 320 and a.groupby("sku_id").cum.last().sum() == df.demand.sum()
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
