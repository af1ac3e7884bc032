"""The engine switch: the same study on engine duckdb and on engine spark (local mode) gives the same plans.

The stages are unchanged: ``derived.use_backend`` routes every derived table and ``fanout.use_engine`` every
``map_groups`` call without an explicit engine. The studies run the stages that read the engine (forecast →
pricing → inventory: demand/price history, stock positions, lead times, master data, the pricing fan-out);
workforce and simulation read neither derived tables nor the fan-out, and their time-limited roster solve
gives CPU-speed-dependent rosters on a loaded machine, so running them twice would compare timings, not
engines. The forecast section keeps the statistical models (seasonal naive, ETS, TSB; one backtest fold)."""
import json
import re
import shutil
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

import scenarios
from model import fanout
from model.ssot import derived

TINY = Path(__file__).resolve().parents[1] / "scenarios" / "tiny" / "tiny.yaml"
FAST_FORECAST = {"forecast": {"models": ["seasonal_naive", "ets", "tsb"], "backtest_folds": 1}}
TIMING = re.compile(r"(?:seconds|_cpu_s|wall_s)$")  # measured run times differ between any two runs
ENGINE_STAGES = ("forecast", "pricing", "inventory")
STAGE_TABLES = {"forecast": {"forecast", "forecast_metrics"}, "pricing": {"plan_prices", "price_elasticities"},
                "inventory": {"plan_orders", "plan_inventory", "plan_cash", "inventory_classes"}}


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
        explicit = derived.sku_master(ibis.duckdb.from_connection(store))  # an explicit Ibis backend wins
    assert inside["sku_id"].tolist() == ["OTHER"] and explicit["sku_id"].tolist() == ["MINE"]
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
    from model.ssot.engine import spark_session
    from model.study import run_study
    out = tmp_path_factory.mktemp("scale_study")
    runs = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("model.study.STAGES", ENGINE_STAGES)
        for kind in ("duckdb", "spark"):
            engine = {"kind": kind, "spark_master": "local[2]"}
            scn = scenarios.load(TINY, overrides={**FAST_FORECAST, "engine": engine})
            sc = spark_session(scn.engine).sparkContext  # the session the study will reuse
            sc.setJobGroup(f"scale_study_{kind}", f"tiny study on {kind}")
            runs[kind] = run_study(scn, out / kind, quiet=True, scenario_dir=TINY.parent, render=False)
            runs[f"{kind}_spark_jobs"] = len(sc.statusTracker().getJobIdsForGroup(f"scale_study_{kind}"))
    return runs


@pytest.mark.spark
def test_spark_study_records_its_engine(studies):
    prov = studies["spark"].provenance
    assert prov["status"] == "ok" and prov["engine"]["kind"] == "spark"
    assert set(prov["engine"]["mirrored_tables"]) == set(derived.SOURCE_TABLES)
    assert studies["duckdb"].provenance["engine"]["kind"] == "duckdb"
    assert studies["duckdb_spark_jobs"] == 0 and studies["spark_spark_jobs"] > 10  # Spark did the work
    saved = json.loads((studies["spark"].out_dir / "provenance.json").read_text())
    assert saved["engine"]["spark_master"] == "local[2]"


def _without_timings(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop(columns=[c for c in df.columns if TIMING.search(c)])
    if "metric" in df.columns:
        df = df[~df["metric"].astype(str).str.contains(TIMING)].reset_index(drop=True)
    return df


@pytest.mark.spark
@pytest.mark.parametrize("stage", ENGINE_STAGES)
def test_same_tables_on_duckdb_and_spark(studies, stage):
    """Every table of the stage (the contract's tables at least) is the same on both engines: exactly
    for keys, labels and integers, floats within 1e-6 (Spark sums in another order)."""
    a_res, b_res = studies["duckdb"].stages[stage], studies["spark"].stages[stage]
    assert STAGE_TABLES[stage] <= set(a_res.tables) and set(a_res.tables) == set(b_res.tables)
    assert all(len(a_res.tables[t]) > 0 for t in STAGE_TABLES[stage])
    for name in a_res.tables:
        a, b = _without_timings(a_res.tables[name]), _without_timings(b_res.tables[name])
        assert list(a.columns) == list(b.columns) and len(a) == len(b), name
        floats = [c for c in a.columns if pd.api.types.is_float_dtype(a[c])]
        pd.testing.assert_frame_equal(a.drop(columns=floats), b.drop(columns=floats), check_dtype=False,
                                      obj=name)
        for c in floats:
            np.testing.assert_allclose(a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-6, atol=1e-6,
                                       equal_nan=True, err_msg=f"{name}.{c}")
