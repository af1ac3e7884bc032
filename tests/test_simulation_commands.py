"""The simulate command, the scenario section and service times fitted from real shipment timestamps."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scenarios
from model.simulation.commands import simulate_command
from model.simulation.network import build_network, fit_service_times
from scenarios import ScenarioError
from scenarios.schema.simulation import SimulationConfig

REPO = Path(__file__).resolve().parents[1]
ISSUE_EXAMPLE = """\
simulation:
  arrivals: {rate_per_hour: 48}
  stations:
    - {name: pick, servers: 4, service: {dist: exponential, mean_min: 4.0}}
    - {name: pack, servers: 2, service: {dist: exponential, mean_min: 2.0}}
  routing: serial
  horizon_hours: 2000
  warmup_hours: 100
  replications: 5
  seed: 1
"""


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_issue_example_validates_and_runs_without_ssot(tmp_path):
    short = ISSUE_EXAMPLE.replace("horizon_hours: 2000", "horizon_hours: 150").replace("warmup_hours: 100",
                                                                                         "warmup_hours: 10")
    summary, text = simulate_command(write(tmp_path, short), replications=3)
    json.dumps(summary, allow_nan=False)                      # what run.py --json prints
    for name in ("pick", "pack"):
        st = summary["stations"][name]
        assert set(st) >= {"utilization", "mean_wait_min", "mean_queue_len", "throughput_per_hour", "ci95"}
        assert st["utilization"] == pytest.approx(0.8, abs=0.04)
    assert set(summary) >= {"cycle_time_min", "cycle_time_p95_min", "on_time_rate", "bottleneck",
                            "replications", "events", "events_per_second", "lambda_max_per_hour"}
    assert summary["replications"] == 3 and summary["lambda_max_per_hour"] == pytest.approx(60.0)
    assert "λ_max 60.0 orders/h at pick" in text


def test_seed_override_changes_results_and_is_reproducible(tmp_path):
    p = write(tmp_path, ISSUE_EXAMPLE.replace("2000", "60").replace("warmup_hours: 100", "warmup_hours: 5"))
    a, _ = simulate_command(p, replications=2, seed=4)
    b, _ = simulate_command(p, replications=2, seed=4)
    c, _ = simulate_command(p, replications=2, seed=5)
    assert a["cycle_time_min"] == b["cycle_time_min"] != c["cycle_time_min"]


def test_sweep_and_ladder_in_the_summary(tmp_path):
    text = ISSUE_EXAMPLE.replace("2000", "60").replace("warmup_hours: 100", "warmup_hours: 5") + \
        "  sweep: {horizon_hours: 30, warmup_hours: 3, replications: 2}\n"
    summary, out = simulate_command(write(tmp_path, text), sweep="1.0:1.4:0.2", ladder=1)
    assert [r["level"] for r in summary["sweep"]["levels"]] == [1.0, 1.2, 1.4]
    assert summary["sweep"]["lambda_max_resource"] == "pick"
    assert [r["step"] for r in summary["ladder"]] == [0, 1]
    assert "ladder 1: relieve" in out


def test_missing_section_and_bad_fields_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="no simulation: section"):
        simulate_command(write(tmp_path, "name: x\n"))
    bad = ISSUE_EXAMPLE.replace("servers: 2,", "servers: 0,")
    with pytest.raises(ScenarioError, match=r"simulation.stations.1"):
        scenarios.load(write(tmp_path, bad))
    routes = ISSUE_EXAMPLE.replace("mean_min: 2.0}}", "mean_min: 2.0}, routes: {exit: 0.5, nowhere: 0.5}}")
    with pytest.raises(ScenarioError, match="unknown stations"):
        scenarios.load(write(tmp_path, routes))


@pytest.mark.parametrize("name", ["sim_mmc", "sim_tandem", "sim_warehouse"])
def test_example_scenarios_validate(name):
    scn = scenarios.load(REPO / "scenarios" / f"{name}.yaml")
    assert build_network(scn.simulation).stations


def test_service_times_fitted_from_olist_timestamps(shared_data):
    """Olist orders: approval → handed to carrier is the seller's fulfilment time (created → shipped)."""
    o = pd.read_csv(shared_data / "olist_sample" / "olist_orders_dataset.csv",
                    parse_dates=["order_approved_at", "order_delivered_carrier_date"])
    ship = o.rename(columns={"order_approved_at": "created_at", "order_delivered_carrier_date": "shipped_at"})
    fitted = fit_service_times(ship[["created_at", "shipped_at"]])
    d = (ship["shipped_at"] - ship["created_at"]).dt.total_seconds().div(60).dropna()
    expected = d[(d > 0) & (d <= 7 * 24 * 60)]
    assert set(fitted) == {"created_to_shipped"}
    assert fitted["created_to_shipped"].size == expected.size > 5000
    assert np.median(fitted["created_to_shipped"]) == pytest.approx(expected.median())
    cfg = SimulationConfig.model_validate(
        {"stations": [{"name": "seller", "servers": "inf", "service": {"fit_from": "created_to_shipped"}}]})
    law = build_network(cfg, fitted).stations[0].law
    assert law.dist == "empirical" and law.mean_min == pytest.approx(expected.mean())
    with pytest.raises(ValueError, match="fit_from"):
        build_network(cfg, {})


def test_db_fits_service_times_and_stores_results(tmp_path):
    """With --db: pack's law is fitted from picked → packed gaps and the sim_* tables land in the SSOT."""
    from model.ssot.store import open_store, read_output
    db = tmp_path / "ssot.duckdb"
    con = open_store(db)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(400) * 7, unit="min")
    pack_min = np.random.default_rng(0).gamma(4.0, 0.5, 400)              # mean 2 minutes
    ship = pd.DataFrame({"order_id": [f"o{i}" for i in range(400)], "created_at": created,
                         "picked_at": created + pd.Timedelta(minutes=5),
                         "packed_at": created + pd.Timedelta(minutes=5) + pd.to_timedelta(pack_min, unit="min")})
    con.register("ship", ship)
    con.execute("INSERT INTO shipments BY NAME SELECT * FROM ship")
    con.close()
    text = ISSUE_EXAMPLE.replace("{dist: exponential, mean_min: 2.0}", "{fit_from: picked_to_packed}") \
        .replace("2000", "60").replace("warmup_hours: 100", "warmup_hours: 5")
    summary, _ = simulate_command(write(tmp_path, text), replications=2, db=db)
    busy = summary["stations"]["pack"]["utilization"] * 2 * 60          # server-minutes per hour
    assert busy / summary["stations"]["pack"]["throughput_per_hour"] == pytest.approx(pack_min.mean(), rel=0.05)
    con = open_store(db)
    try:
        assert set(read_output(con, "sim_stations")["station"]) == {"pick", "pack"}
        assert len(read_output(con, "sim_kpis")) > 0
    finally:
        con.close()


def test_cli_json_and_error_exit_code(tmp_path):
    import subprocess
    import sys
    short = ISSUE_EXAMPLE.replace("2000", "40").replace("warmup_hours: 100", "warmup_hours: 4")
    cmd = [sys.executable, str(REPO / "run.py"), "simulate", str(write(tmp_path, short)), "--replications", "2",
           "--seed", "9", "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["replications"] == 2 and summary["bottleneck"] in ("pick", "pack", "tie: pack = pick")
    bad = subprocess.run(cmd[:3] + [str(write(tmp_path, "name: x\n", "x.yaml"))], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 1 and "no simulation: section" in bad.stderr
