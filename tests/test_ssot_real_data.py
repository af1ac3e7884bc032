"""Real public datasets through the real ingest path, reconciled with the source files read by pandas."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from model.ssot.ingest import ingest_manifest
from model.ssot.store import open_store

SOURCES = Path(__file__).resolve().parents[1] / "scenarios" / "sources"


def load(shared_data: Path, dataset: str):
    con = open_store(":memory:")
    res = ingest_manifest(con, SOURCES / dataset / "sources.yaml", root=shared_data / dataset)
    for b in res.batches:
        assert b.rows_read == b.accepted + b.quarantined + b.unchanged
    return con, {b.source.split("/")[-1]: b for b in res.batches}


def one(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchone()[0]


def test_stallion(shared_data):
    src = pd.read_parquet(shared_data / "stallion" / "stallion.parquet")
    con, batches = load(shared_data, "stallion")
    sales = batches["stallion.parquet"]
    assert (sales.rows_read, sales.accepted, sales.quarantined) == (len(src), len(src) - 1, 1)
    # the one real bad row: a negative actual price (-3121.69) — quarantined, not loaded
    bad = src.index[src["price_actual"] < 0]
    assert len(bad) == 1
    row, field, reason = con.execute("SELECT row_number, field, reason FROM quarantine").fetchone()
    assert (row, field, reason) == (src.index.get_loc(bad[0]) + 1, "unit_price", "out_of_range: unit_price below minimum 0")
    assert one(con, "SELECT sum(units) FROM sales") == pytest.approx(src["volume"].sum() - src.loc[bad, "volume"].sum(), rel=1e-12)
    assert one(con, "SELECT count(*) FROM location") == src["agency"].nunique() == 58
    assert one(con, "SELECT count(*) FROM sku") == src["sku"].nunique() == 25
    assert one(con, "SELECT count(*) FILTER (WHERE promo) FROM sales") == int((src["discount"] > 0).sum()) - int(
        (src.loc[bad, "discount"] > 0).sum())
    flags = ["easter_day", "good_friday", "new_year", "christmas", "labor_day", "independence_day",
             "revolution_day_memorial", "regional_games", "fifa_u_17_world_cup", "football_gold_cup",
             "beer_capital", "music_fest"]
    events = src.melt(id_vars="date", value_vars=flags).query("value == 1")[["date", "variable"]].drop_duplicates()
    assert one(con, "SELECT count(*) FROM calendar") == len(events)


def test_walmart_recruiting(shared_data):
    d = shared_data / "walmart_recruiting"
    train = pd.read_csv(d / "train.csv.zip")
    features = pd.read_csv(d / "features.csv")
    con, batches = load(shared_data, "walmart_recruiting")
    sales = batches["sql:weekly_sales"]
    assert (sales.rows_read, sales.accepted, sales.quarantined) == (len(train), len(train), 0) == (421570, 421570, 0)
    assert one(con, "SELECT sum(units) FROM sales") == pytest.approx(train["Weekly_Sales"].sum(), rel=1e-12)
    # negative weekly sales are net returns: accepted as negative units, none quarantined
    assert one(con, "SELECT count(*) FROM sales WHERE units < 0") == int((train["Weekly_Sales"] < 0).sum()) == 1285
    md = features[["Store", "Date"]].assign(
        markdown=(features[[f"MarkDown{i}" for i in range(1, 6)]].fillna(0) > 0).any(axis=1))
    expected_promo = train.merge(md, on=["Store", "Date"], how="left")["markdown"].fillna(False).sum()
    assert one(con, "SELECT count(*) FILTER (WHERE promo) FROM sales") == expected_promo
    assert one(con, "SELECT count(*) FROM location") == 45
    assert one(con, "SELECT size_m2 FROM location WHERE location_id = '1'") == pytest.approx(151315 * 0.09290304)
    assert one(con, "SELECT count(*) FROM sku") == train["Dept"].nunique()
    assert one(con, "SELECT count(*) FROM calendar") == features.loc[features["IsHoliday"], "Date"].nunique()
    assert one(con, "SELECT event FROM calendar WHERE date = DATE '2010-11-26'") == "Thanksgiving week"
    stores = batches["stores.csv"]
    assert one(con, "SELECT file_hash FROM lineage WHERE batch_id = ?", [stores.batch_id]) == hashlib.sha256(
        (d / "stores.csv").read_bytes()).hexdigest()


def test_favorita_traffic(shared_data):
    d = shared_data / "favorita_traffic"
    tx = pd.read_csv(d / "transactions.csv")
    hol = pd.read_csv(d / "holidays_events.csv")
    con, batches = load(shared_data, "favorita_traffic")
    traffic = batches["transactions.csv"]
    assert (traffic.rows_read, traffic.accepted) == (len(tx), len(tx))
    assert one(con, "SELECT sum(transactions) FROM traffic") == tx["transactions"].sum()
    assert one(con, "SELECT count(DISTINCT location_id) FROM traffic") == tx["store_nbr"].nunique() == 54
    assert one(con, "SELECT count(*) FROM calendar") == len(hol) == 350
    assert con.execute("SELECT event_type, scope FROM calendar WHERE date = DATE '2012-03-02' AND event = "
                       "'Fundacion de Manta'").fetchone() == ("holiday", "Manta")
    assert one(con, "SELECT count(*) FROM calendar WHERE scope = 'national'") == int((hol["locale"] == "National").sum())
    again = ingest_manifest(con, SOURCES / "favorita_traffic" / "sources.yaml", root=d)
    assert again.totals()["unchanged"] == len(tx) + len(hol) + 54 and again.totals()["accepted"] == 0


def test_rossmann_store1(shared_data):
    d = shared_data / "rossmann_store1"
    daily = pd.read_csv(d / "rossmann_store1_train.csv", dtype={"StateHoliday": str})
    con, batches = load(shared_data, "rossmann_store1")
    assert one(con, "SELECT count(*) FROM sales") == len(daily) == 942
    assert one(con, "SELECT sum(units) FROM sales") == daily["Sales"].sum()
    assert one(con, "SELECT count(*) FILTER (WHERE promo) FROM sales") == daily["Promo"].sum()
    assert one(con, "SELECT sum(transactions) FROM traffic") == daily["Customers"].sum()
    assert one(con, "SELECT count(*) FROM location") == 1115
    n_events = int((daily["StateHoliday"] != "0").sum() + (daily["SchoolHoliday"] == 1).sum())
    assert one(con, "SELECT count(*) FROM calendar") == n_events
    assert one(con, "SELECT count(*) FROM quarantine") == 0


def test_olist_sample(shared_data):
    d = shared_data / "olist_sample"
    items = pd.read_csv(d / "olist_order_items_dataset.csv")
    orders = pd.read_csv(d / "olist_orders_dataset.csv")
    products = pd.read_csv(d / "olist_products_dataset.csv")
    con, batches = load(shared_data, "olist_sample")
    assert batches["sql:order_items"].rows_read == len(items) == one(con, "SELECT count(*) FROM sales")
    assert one(con, "SELECT sum(unit_price) FROM sales") == pytest.approx(items["price"].sum(), rel=1e-12)
    assert one(con, "SELECT count(*) FROM shipments") == len(orders) == 8000
    assert one(con, "SELECT sum(freight_cost) FROM shipments") == pytest.approx(items["freight_value"].sum(), rel=1e-12)
    assert one(con, "SELECT sum(lines) FROM shipments") == len(items)
    assert one(con, "SELECT count(*) FROM sku") == len(products)
    assert one(con, "SELECT count(*) FROM location WHERE type = 'marketplace'") == pd.read_csv(
        d / "olist_sellers_dataset.csv").shape[0]
    o = orders.iloc[0]
    got = con.execute("SELECT created_at, approved_at, shipped_at, delivered_at, promised_at FROM shipments "
                      "WHERE order_id = ?", [o["order_id"]]).fetchone()
    want = [o["order_purchase_timestamp"], o["order_approved_at"], o["order_delivered_carrier_date"],
            o["order_delivered_customer_date"], o["order_estimated_delivery_date"]]
    assert [pd.Timestamp(g) for g in got] == [pd.Timestamp(w) for w in want]
    p = products.dropna(subset=["product_weight_g", "product_length_cm"]).iloc[0]
    vol, kg = con.execute("SELECT volume_m3, weight_kg FROM sku WHERE sku_id = ?", [p["product_id"]]).fetchone()
    assert kg == pytest.approx(p["product_weight_g"] / 1000)
    assert vol == pytest.approx(p["product_length_cm"] * p["product_height_cm"] * p["product_width_cm"] / 1e6)
    assert one(con, "SELECT count(*) FROM quarantine") == 0
