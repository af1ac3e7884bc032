"""The engine switch: the same study on engine duckdb and on engine spark (local mode) gives the same plans.

The stages are unchanged: ``derived.use_backend`` routes every derived table and ``fanout.use_engine`` every
``map_groups`` call without an explicit engine. The forecast section is limited to the statistical models
(seasonal naive, ETS, TSB; one backtest fold) to keep the two studies within a few minutes on CI."""
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scenarios
from model import fanout
from model.ssot import derived

TINY = Path(__file__).resolve().parents[1] / "scenarios" / "tiny" / "tiny.yaml"
FAST_FORECAST = {"forecast": {"models": ["seasonal_naive", "ets", "tsb"], "backtest_folds": 1}}
TABLES = ("forecast", "plan_prices", "price_elasticities", "plan_orders", "plan_inventory", "plan_cash",
          "inventory_classes", "plan_roster", "plan_coverage", "plan_headcount", "sim_kpis")


# ----------------------------------------------------------------------------------------- the switches
def _one_sku(con, sku_id: str) -> None:
    con.execute("INSERT INTO sku (sku_id, unit_cost, list_price) VALUES (?, 2.0, 5.0)", [sku_id])


def test_use_backend_routes_derived_tables_and_restores(store, tmp_path):
    from model.ssot.store import open_store
    other = open_store(tmp_path / "other.duckdb")
    _one_sku(store, "MINE")
    _one_sku(other, "OTHER")
    with derived.use_backend(derived.backend(other)):
        inside = derived.sku_master(store)
    assert inside["sku_id"].tolist() == ["OTHER"]
    assert derived.sku_master(store)["sku_id"].tolist() == ["MINE"]
    other.close()


class _RoutedToSpark(Exception):
    pass


class _NoSpark:
    """Stands in for a SparkSession and shows that ``map_groups`` reached the Spark path."""

    def createDataFrame(self, *args, **kwargs):
        raise _RoutedToSpark


def _double(g: pd.DataFrame) -> pd.DataFrame:
    return g.assign(y=2 * g["x"])


def test_use_engine_sets_the_default_engine_only():
    df = pd.DataFrame({"k": [1, 1, 2], "x": [1.0, 2.0, 3.0]})
    assert fanout.current_engine() == ("local", None)
    with fanout.use_engine("spark", _NoSpark()):
        with pytest.raises(_RoutedToSpark):
            fanout.map_groups(df, "k", _double)
        assert fanout.map_groups(df, "k", _double, engine="local")["y"].tolist() == [2.0, 4.0, 6.0]
    assert fanout.current_engine() == ("local", None)
    with pytest.raises(ValueError, match="needs a SparkSession"):
        with fanout.use_engine("spark"):
            pass
    with pytest.raises(ValueError, match="'local' or 'spark'"):
        with fanout.use_engine("dask"):
            pass


# ----------------------------------------------------------------------------------------- the study
@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    """The tiny study on DuckDB and on local Spark (same store contents, same seeds)."""
    pytest.importorskip("pyspark", reason="the spark extra is installed by .ci/setup")
    if shutil.which("java") is None:
        pytest.fail("Java is required for the Spark engine tests (.ci/setup installs it)")
    from model.study import run_study
    out = tmp_path_factory.mktemp("scale_study")
    runs = {}
    for kind in ("duckdb", "spark"):
        engine = {"kind": kind, "spark_master": "local[2]"}
        scn = scenarios.load(TINY, overrides={**FAST_FORECAST, "engine": engine})
        runs[kind] = run_study(scn, out / kind, quiet=True, scenario_dir=TINY.parent, render=False)
    return runs


@pytest.mark.spark
def test_spark_study_records_its_engine(studies):
    prov = studies["spark"].provenance
    assert prov["status"] == "ok" and prov["engine"]["kind"] == "spark"
    assert {"sales", "sku", "inventory"} <= set(prov["engine"]["mirrored_tables"])
    assert studies["duckdb"].provenance["engine"]["kind"] == "duckdb"
    saved = json.loads((studies["spark"].out_dir / "provenance.json").read_text())
    assert saved["engine"]["spark_master"] == "local[2]"


def _tables(result) -> dict[str, pd.DataFrame]:
    return {k: v for res in result.stages.values() for k, v in res.tables.items()}


@pytest.mark.spark
@pytest.mark.parametrize("name", TABLES)
def test_same_plans_on_duckdb_and_spark(studies, name):
    a, b = _tables(studies["duckdb"])[name], _tables(studies["spark"])[name]
    assert len(a) > 0 and list(a.columns) == list(b.columns)
    floats = [c for c in a.columns if pd.api.types.is_float_dtype(a[c])]
    pd.testing.assert_frame_equal(a.drop(columns=floats), b.drop(columns=floats), check_dtype=False)
    for c in floats:  # money and expected units within a tolerance (float summation order differs)
        np.testing.assert_allclose(a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-6, atol=1e-6,
                                   equal_nan=True, err_msg=f"{name}.{c}")
