"""The demo business: determinism, files and manifest, realism invariants, and the ingest round trip.

One small business (40 SKUs × half a year, Jul–Dec 2025) is generated once per module; every test reads
it. Invariants are exact where the generator guarantees them (inventory balance, censoring, order/
shipment reconciliation) and loose only where they are statistical (seasonality).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

from model.ssot import schema
from model.ssot.demo import generate

SKUS, YEARS, SEED = 40, 0.5, 11


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "biz"
    generate(out, skus=SKUS, years=YEARS, seed=SEED)
    return out


def _dirty(demo: Path) -> pd.DataFrame:
    return pd.read_csv(demo / "ground_truth/dirty_rows.csv")


def _clean(demo: Path, rel: str, df: pd.DataFrame) -> pd.DataFrame:
    """Drop the file's deliberately dirty rows (1-based row numbers) from a frame read in file order."""
    bad = _dirty(demo).query("file == @rel")["row_number"].to_numpy() - 1
    return df.drop(index=bad).reset_index(drop=True)


def _sales(demo: Path) -> pd.DataFrame:
    s = _clean(demo, "pos/sales.csv", pd.read_csv(demo / "pos/sales.csv", sep=";", dtype={"kunde": str}))
    s["date"] = pd.to_datetime(s["zeit"], format="%d.%m.%Y %H:%M").dt.normalize()
    return s


def _stock(demo: Path) -> pd.DataFrame:
    s = _clean(demo, "inventory_db/stock_eod.parquet", pd.read_parquet(demo / "inventory_db/stock_eod.parquet"))
    return s.assign(snap_dt=pd.to_datetime(s["snap_dt"]))


def _receipts(demo: Path) -> pd.DataFrame:
    r = _clean(demo, "inventory_db/receipts.parquet", pd.read_parquet(demo / "inventory_db/receipts.parquet"))
    return r.assign(date=pd.to_datetime(r["recv_ts"]).dt.normalize())


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ----------------------------------------------------------------------------------------- files
def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(demo, tmp_path):
    # a fresh interpreter with another hash seed: nothing may depend on process state
    code = (f"from model.ssot.demo import generate; import json; print(json.dumps(generate("
            f"{str(tmp_path / 'again')!r}, skus={SKUS}, years={YEARS}, seed={SEED})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[1], env={**os.environ, "PYTHONHASHSEED": "12345"})
    again = json.loads(done.stdout.strip().splitlines()[-1])
    assert _digest(demo) == _digest(tmp_path / "again")
    assert again["rows_total"] == sum(again["files"].values())
    other = tmp_path / "other"
    generate(other, skus=SKUS, years=YEARS, seed=SEED + 1)
    assert _digest(other)["pos/sales.csv"] != _digest(demo)["pos/sales.csv"]


def test_manifest_lists_every_export_with_a_mapping_onto_canonical_columns(demo):
    y = YAML(typ="safe", pure=True)
    manifest = y.load((demo / "sources.yaml").read_text())
    kinds = {f["kind"] for f in manifest["files"]}
    assert kinds == set(schema.INGEST_KINDS)  # every canonical table is fed
    for f in manifest["files"]:
        assert (demo / f["path"]).stat().st_size > 0, f["path"]
        mapping = y.load((demo / f["mapping"]).read_text())
        assert mapping["kind"] == f["kind"]
        table = schema.table(f["kind"])
        targets = set(mapping.get("columns", {})) | set(mapping.get("derive", {})) | set(mapping.get("constants", {}))
        assert targets <= set(table.column_names), (f["path"], targets - set(table.column_names))
        required = {c.name for c in table.columns if c.required} | set(table.key)
        assert required <= targets, (f["path"], required - targets)
    assert not any("ground_truth" in f["path"] for f in manifest["files"])


def test_bad_arguments_are_refused_with_the_field_named(tmp_path):
    with pytest.raises(ValueError, match="skus"):
        generate(tmp_path / "x", skus=3)
    with pytest.raises(ValueError, match="years"):
        generate(tmp_path / "x", skus=20, years=0.01)


# ----------------------------------------------------------------------------------------- demand truth
def test_ground_truth_parameters_lie_in_their_declared_ranges(demo):
    params = json.loads((demo / "ground_truth/params.json").read_text())
    ranges = {c["name"]: c["elasticity_range"] for c in params["categories"]}
    truth = pd.read_csv(demo / "ground_truth/sku_truth.csv")
    lo = truth["category"].map(lambda c: ranges[c][0])
    hi = truth["category"].map(lambda c: ranges[c][1])
    assert ((truth["elasticity"] >= lo) & (truth["elasticity"] <= hi) & (truth["elasticity"] < 0)).all()
    carried = truth["n_competitors"] > 0
    assert truth.loc[carried, "cross_elasticity"].between(0.2, 1.2).all()
    assert (truth.loc[~carried, "cross_elasticity"] == 0).all()
    assert truth["promo_uplift"].between(0.15, 0.5).all()
    assert truth["post_promo_dip"].between(-0.3, -0.05).all()


def test_skus_without_price_variation_are_flagged_and_really_constant(demo):
    truth = pd.read_csv(demo / "ground_truth/sku_truth.csv").set_index("sku_id")
    d = pd.read_parquet(demo / "ground_truth/demand.parquet")
    selling = d.loc[d["expected"] > 0, ["date", "sku_id"]].drop_duplicates()
    prices = pd.read_parquet(demo / "ground_truth/prices.parquet").merge(selling, on=["date", "sku_id"])
    spread = prices.groupby("sku_id")["price"].agg(np.ptp)
    assert (~truth["price_varies"]).any() and truth["price_varies"].any()
    assert ((spread > 0) == truth["price_varies"].reindex(spread.index)).all()


def test_black_friday_and_december_lift_expected_demand(demo):
    d = pd.read_parquet(demo / "ground_truth/demand.parquet")
    daily = d[d["location_id"] == "WEB"].groupby("date")["expected"].sum()
    daily.index = pd.to_datetime(daily.index)
    bf, cm = pd.Timestamp("2025-11-28"), pd.Timestamp("2025-12-01")
    assert daily[bf] > 2.0 * daily[:"2025-10-31"].mean()
    assert daily[cm] > 1.5 * daily[:"2025-10-31"].mean()
    assert daily["2025-12-01":"2025-12-22"].mean() > 1.2 * daily["2025-07-01":"2025-10-31"].mean()


def test_weekly_pattern_web_peaks_sunday_and_monday_stores_on_saturday(demo):
    d = pd.read_parquet(demo / "ground_truth/demand.parquet")
    d["dow"] = pd.to_datetime(d["date"]).dt.dayofweek
    web = d[d["location_id"] == "WEB"].groupby(["date", "dow"])["expected"].sum().groupby("dow").mean()
    assert web[6] > 1.15 * web[5] and web[0] > 1.15 * web[4]   # Sun vs Sat, Mon vs Fri (≈ e^0.27, e^0.22)
    store = d[d["location_id"] == "S01"].groupby(["date", "dow"])["expected"].sum().groupby("dow").mean()
    assert store.idxmax() == 5


def test_stores_sell_nothing_on_sundays_and_holidays(demo):
    s = _sales(demo)
    stores = s[s["filiale"].str.startswith("S")]
    assert not (stores["date"].dt.dayofweek == 6).any()
    assert not (stores["date"] == pd.Timestamp("2025-12-25")).any()
    assert not ((stores["filiale"] == "S01") & (stores["date"] == pd.Timestamp("2025-11-01"))).any()  # BY


# ----------------------------------------------------------------------------------------- stock and censoring
def test_sales_are_censored_demand(demo):
    d = pd.read_parquet(demo / "ground_truth/demand.parquet")
    assert (d["sales"] <= d["demand"]).all()
    assert (d.loc[~d["stockout"], "sales"] == d.loc[~d["stockout"], "demand"]).all()
    assert d["stockout"].any()  # stock-outs really cut sales in this business


def test_pos_export_books_exactly_the_ground_truth_sales(demo):
    s = _sales(demo).groupby(["artnr", "filiale", "date"])["menge"].sum()
    d = pd.read_parquet(demo / "ground_truth/demand.parquet")
    d = d[d["sales"] > 0].assign(date=lambda x: pd.to_datetime(x["date"]))
    truth = d.set_index(["sku_id", "location_id", "date"])["sales"].sort_index()
    pd.testing.assert_series_equal(s.sort_index().rename_axis(truth.index.names).astype(int), truth.astype(int),
                                   check_names=False, check_index_type=False)


def test_inventory_balance_holds_exactly_per_sku_and_location(demo):
    stock = _stock(demo).sort_values(["item_id", "site_id", "snap_dt"])
    sales = _sales(demo)
    sales["site"] = sales["filiale"].replace({"WEB": "DC1", "MKT": "DC1"})
    sold = sales.groupby(["artnr", "site", "date"])["menge"].sum()
    received = _receipts(demo).merge(pd.read_parquet(demo / "inventory_db/purchase_orders.parquet")
                                     [["po_number", "item_id", "site_id"]], on=["po_number", "item_id"])
    recv = received.groupby(["item_id", "site_id", "date"])["qty_recv"].sum()
    key = pd.MultiIndex.from_frame(stock[["item_id", "site_id", "snap_dt"]])
    stock["sold"] = sold.reindex(key, fill_value=0).to_numpy()
    stock["recv"] = recv.reindex(key, fill_value=0).to_numpy()
    prev = stock.groupby(["item_id", "site_id"])["qty_oh"].shift()
    same_series_next_day = stock.groupby(["item_id", "site_id"])["snap_dt"].diff() == pd.Timedelta(days=1)
    chk = stock[prev.notna()]
    assert same_series_next_day[prev.notna()].all()  # snapshots are daily without gaps
    assert (chk["qty_oh"] == prev[prev.notna()] + chk["recv"] - chk["sold"]).all()
    assert (stock["qty_oh"] >= 0).all()


def test_receipts_follow_their_orders_with_the_suppliers_lead_time(demo):
    po = _clean(demo, "inventory_db/purchase_orders.parquet",
                pd.read_parquet(demo / "inventory_db/purchase_orders.parquet"))
    sup = pd.read_parquet(demo / "inventory_db/suppliers.parquet")
    rc = _receipts(demo).merge(po, on=["po_number", "item_id"], validate="many_to_one")
    rc = rc.merge(sup, on="supplier_code")
    lead = (rc["date"] - pd.to_datetime(rc["order_dt"])).dt.days
    assert (lead >= 1).all()
    assert (lead <= rc["lt_mean_d"] + 6 * rc["lt_sd_d"] + 7).all()
    per_line = rc.groupby(["po_number", "item_id"]).agg(got=("qty_recv", "sum"), ordered=("qty", "first"))
    assert (per_line["got"] <= per_line["ordered"]).all()
    assert abs((lead - rc["lt_mean_d"]).mean()) < 1.5  # realised lead times centre on the supplier's mean
    assert not (rc["date"].dt.dayofweek == 6).any()      # no deliveries on Sundays …
    assert not rc["date"].isin(pd.to_datetime(["2025-10-03", "2025-12-25", "2025-12-26"])).any()  # … or holidays


def test_on_order_is_ordered_minus_received(demo):
    stock = _stock(demo)
    po = _clean(demo, "inventory_db/purchase_orders.parquet",
                pd.read_parquet(demo / "inventory_db/purchase_orders.parquet"))
    rc = _receipts(demo).merge(po[["po_number", "item_id", "site_id"]], on=["po_number", "item_id"])
    flows = pd.concat([po.assign(date=pd.to_datetime(po["order_dt"]), q=po["qty"]),
                       rc.assign(q=-rc["qty_recv"])])[["item_id", "site_id", "date", "q"]]
    net = flows.groupby(["item_id", "site_id", "date"])["q"].sum().groupby(level=[0, 1]).cumsum()
    merged = pd.merge_asof(stock.sort_values("snap_dt"), net.rename("open").reset_index().sort_values("date"),
                           left_on="snap_dt", right_on="date", by=["item_id", "site_id"])
    assert (merged["open"].fillna(0) == merged["qty_oo"]).all()


def test_dead_stock_keeps_stock_but_stops_selling(demo):
    truth = pd.read_csv(demo / "ground_truth/sku_truth.csv")
    dead = truth[truth["popularity"] == "dead_stock"]
    if dead.empty:
        pytest.skip("no dead SKU drawn at this size")
    stock = _stock(demo)
    last = stock[stock["snap_dt"] == stock["snap_dt"].max()].groupby("item_id")["qty_oh"].sum()
    d = pd.read_parquet(demo / "ground_truth/demand.parquet")
    for row in dead.itertuples():
        after = d[(d["sku_id"] == row.sku_id) & (pd.to_datetime(d["date"]) >= pd.Timestamp(row.dead_date))]
        assert after["expected"].mean() < 0.05 * max(row.base_rate, 1e-9) * 5
        assert last.get(row.sku_id, 0) > 0


# ----------------------------------------------------------------------------------------- orders, logistics, staff
def test_every_web_order_ships_once_with_ordered_process_timestamps(demo):
    sh = pd.read_json(demo / "logistics/shipments.jsonl.gz", lines=True, dtype={"created": str})
    sh = _clean(demo, "logistics/shipments.jsonl.gz", sh)
    s = _sales(demo)
    web = s[s["filiale"].isin(["WEB", "MKT"])].groupby("bon_nr").agg(lines=("pos", "size"), units=("menge", "sum"))
    sh = sh.set_index("id")
    assert set(sh.index) == set(web.index)
    assert (sh.loc[web.index, "n_lines"].to_numpy() == web["lines"].to_numpy()).all()
    assert (sh.loc[web.index, "n_units"].to_numpy() == web["units"].to_numpy()).all()
    ts = {c: pd.to_datetime(sh[c]) for c in ("created", "picked", "packed", "shipped")}
    ts["delivered"] = pd.to_datetime(sh["delivered_ms"], unit="ms")
    for a, b in zip(list(ts)[:-1], list(ts)[1:]):
        both = ts[a].notna() & ts[b].notna()
        assert (ts[a][both] <= ts[b][both]).all(), (a, b)
    assert (pd.to_datetime(sh["promised"]) > ts["created"]).all()
    assert (ts["shipped"].dropna().dt.dayofweek != 6).all()  # no carrier pick-ups on Sundays


def test_peak_season_slows_the_warehouse(demo):
    sh = _clean(demo, "logistics/shipments.jsonl.gz",
                pd.read_json(demo / "logistics/shipments.jsonl.gz", lines=True, dtype={"created": str}))
    created, shipped = pd.to_datetime(sh["created"]), pd.to_datetime(sh["shipped"])
    hours = (shipped - created).dt.total_seconds() / 3600
    peak = created.between("2025-11-28", "2025-12-23")
    calm = created.between("2025-07-01", "2025-10-31")
    assert hours[peak].mean() > 1.2 * hours[calm].mean()


def test_staff_contracts_are_consistent(demo):
    st = pd.read_parquet(demo / "inventory_db/staff.parquet")
    assert (st["min_h_week"] <= st["max_h_week"]).all()
    assert st["min_h_week"].between(0, 80).all() and st["max_h_week"].between(0, 80).all()
    roles = set(",".join(st["skills"]).split(","))
    assert roles <= {"receive", "putaway", "pick", "pack", "cashier"}
    dc = ",".join(st.loc[st["home_site"] == "DC1", "skills"])
    assert {"pick", "pack", "receive"} <= set(dc.split(","))
    assert (st["rate_eur_h"] > 0).all()


# ----------------------------------------------------------------------------------------- ingest round trip
def test_ingest_accepts_every_clean_row_and_quarantines_exactly_the_dirty_ones(demo, store):
    from model.ssot.ingest import ingest_manifest
    result = ingest_manifest(store, demo / "sources.yaml")
    assert result.error is None
    dirty = _dirty(demo)
    q = store.execute("SELECT source, row_number, field, reason FROM quarantine").df()
    q["file"] = q["source"].map(lambda p: str(Path(p).relative_to(demo)))
    got = q[["file", "row_number", "field"]].sort_values(["file", "row_number"]).reset_index(drop=True)
    want = dirty[["file", "row_number", "field"]].sort_values(["file", "row_number"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    codes = q.merge(dirty, on=["file", "row_number"])
    assert all(r.startswith(c) for r, c in zip(codes["reason_x"], codes["reason_y"]))
    summary = json.loads((demo / "ground_truth/params.json").read_text())
    assert summary["skus"] == SKUS
    per_file = dirty.groupby("file").size()
    for b in result.batches:
        rel = str(Path(b.source).relative_to(demo))
        assert b.quarantined == per_file.get(rel, 0), rel
        assert b.accepted == b.rows_read - b.quarantined, rel
        table_rows = store.execute(f"SELECT count(*) FROM {b.kind}").fetchone()[0]
        assert table_rows == b.accepted, rel


# ----------------------------------------------------------------------------------------- building blocks
def test_fifo_picking_with_daily_capacity_matches_hand_computation():
    from model.ssot.demo_orders import fifo_pick_start
    open_h, close_h = np.array([8.0, 8.0, np.nan, 8.0]), np.array([12.0, 12.0, np.nan, 12.0])
    cap = np.array([2.0, 2.0, 0.0, 2.0])        # 2 orders/day over 4 h: one slot every 2 h
    rel_day = np.array([0, 0, 0, 0, 0])          # five orders released at 08:00, 08:10, …
    rel_hour = np.array([8.0, 8.1, 8.2, 8.3, 8.4])
    start = fifo_pick_start(rel_day, rel_hour, cap, open_h, close_h)
    # day 0: orders 1–2 (08:00, then max(08:10, 10:00)); day 1: orders 3–4 (08:00, 10:00);
    # day 2 closed; day 3: order 5 at 08:00
    assert np.allclose(start, [8.0, 10.0, 24 + 8.0, 24 + 10.0, 72 + 8.0])


def test_line_split_keeps_every_unit_and_orders_stay_within_one_day_and_channel():
    from model.ssot.demo_orders import group_orders, split_lines
    rng = np.random.default_rng(5)
    units = rng.integers(1, 9, 2000)
    group, qty = split_lines(rng, units)
    assert (qty >= 1).all() and np.array_equal(np.bincount(group, qty, minlength=units.size), units)
    day, channel = rng.integers(0, 30, group.size), rng.integers(0, 2, group.size)
    oid, line = group_orders(rng, day, channel)
    lines = pd.DataFrame({"oid": oid, "line": line, "day": day, "channel": channel})
    per = lines.groupby("oid").agg(days=("day", "nunique"), chans=("channel", "nunique"), n=("line", "size"),
                                   lines=("line", lambda s: sorted(s) == list(range(1, len(s) + 1))))
    assert (per["days"] == 1).all() and (per["chans"] == 1).all() and per["lines"].all()
    assert 1.3 < per["n"].mean() < 2.0  # geometric order sizes, mean ≈ 1.6 lines
