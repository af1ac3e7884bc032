"""The demo business: the embedded default every model and the annual study run on.

``generate(out_dir, skus=500, years=3.0, seed=7)`` writes the raw exports of a German omni-channel
retailer the way its source systems would, a ``sources.yaml`` manifest with one mapping per export, and
the ground truth (kept apart, never ingested). Same seed → byte-identical files.

The business
------------
* **Locations**: central warehouse ``DC1`` (Kassel; ``storage_m3`` = the history's peak stock volume
  / 0.95, reached in the Christmas build-up, so it is tight in Q4), web shop ``WEB`` and marketplace
  channel ``MKT`` (both shipped from DC1), stores ``S01 München``, ``S02 Köln``, ``S03 Hamburg`` (closed
  Sundays and on their region's holidays).
* **SKUs** in 10 categories (``demo_catalog.CATEGORIES``) with own-price elasticities around the
  category means −0.8 … −3.0, Pareto popularity (fast movers to intermittent slow movers), 15 % launched
  and 10 % ended mid-history (with markdowns), 5 % dead stock, 10 % that never change price.
* **Demand** (``demo_demand``): log-linear in trend, category seasonality, Christmas run-up, weekday,
  events (Black Friday, Cyber Monday, holidays, the marketplace's summer sale), own price (list changes,
  promotions, markdowns), competitor price index, promotion uplift and post-promotion dip; negative
  binomial units.
* **Stock** (``demo_stock``): weekly-review (s,S) per SKU at the DC and per SKU × store, supplier lead-time
  variability, case packs and MOQs, deliveries Monday–Saturday; stock-outs censor sales.
* **Orders** (``demo_orders``): web/marketplace sales become multi-line orders that run through the DC
  (FIFO picking with daily capacity, packing, carrier pick-ups with cut-offs, deliveries).

Exports (``OUT_DIR/``) and their conventions
--------------------------------------------
* ``pos/`` — POS / web-shop system, CSV with ``;``, dates ``dd.mm.yyyy [HH:MM]``, prices in cents,
  German column names: ``articles.csv`` (volume in litres, weight in grams), ``locations.csv``,
  ``sales.csv`` (web/marketplace: one line per order line; stores: one line per SKU × store × day on
  the day's Z-batch ``<store>-<yyyymmdd>`` at 20:00), ``traffic.csv`` (visitors and receipts per store and
  day; web sessions and orders per day).
* ``inventory_db/`` — inventory database dump, Parquet: ``suppliers``, ``stock_eod`` (daily end-of-day
  on hand / on order per SKU × DC or store), ``purchase_orders``, ``receipts`` (timestamped),
  ``staff`` (skills comma-separated).
* ``logistics/shipments.jsonl.gz`` — logistics platform, one JSON record per web/marketplace order, ISO
  timestamps, delivery scan as epoch milliseconds, weight in grams.
* ``competitors/prices.csv`` — competitor price feed (ISO dates, EUR), three shops, weekly-ish.
* ``calendar/holidays.csv`` — holidays and peak events (scope ``national``, a region or a location).
* ``mappings/*.yaml`` and ``sources.yaml`` — the ingest manifest.
* ``ground_truth/`` — ``sku_truth.csv`` (elasticities, uplifts, lifecycle, popularity),
  ``demand.parquet`` (expected λ and realised demand, sales, stock-out per SKU × sales location × day),
  ``prices.parquet`` (own price path and competitor index), ``dc_storage.csv``, ``dirty_rows.csv``
  (every deliberately bad row: file, 1-based row number, canonical field, reason) and ``params.json``.

Inventory balance (exact): for the DC, ``on_hand[t] = on_hand[t−1] + received[t] − sales_WEB[t] −
sales_MKT[t]``; for a store, its own sales. Sales are booked on the order's day.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from model.ssot import demo_catalog as cat
from model.ssot import demo_demand as dd
from model.ssot.demo_blocks import Business, run_block
from model.ssot.demo_write import write_all

N_STORES = 3
GENERATOR_VERSION = 2  # bump when the same seed writes different data; cached exports are keyed by it


def generate(out_dir: str | Path, skus: int = 500, years: float = 3.0, seed: int = 7) -> dict:
    """Write the demo business to ``out_dir``; returns ``{"out_dir", "files": {path: rows}, "dirty_rows",
    "skus", "years", "seed", "seconds"}``."""
    _check_args(skus, years, seed)
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    biz = build_business(seed, skus, years)
    blocks = (run_block(biz, rows, np.random.default_rng([seed, 1, b]))
              for b, rows in enumerate(_blocks(skus)))
    files, dirty = write_all(out, biz, blocks, seed)
    return {"out_dir": str(out), "files": files, "rows_total": int(sum(files.values())),
            "dirty_rows": dirty, "skus": skus, "years": years, "seed": seed,
            "seconds": round(time.perf_counter() - t0, 2)}


def _check_args(skus: int, years: float, seed: int) -> None:
    if not isinstance(skus, (int, np.integer)) or skus < 10:
        raise ValueError(f"skus must be an integer ≥ 10; got {skus!r}")
    if not 0.08 <= float(years) <= 10:
        raise ValueError(f"years must be between 0.08 (one month) and 10; got {years!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")


def _blocks(n: int) -> list[np.ndarray]:
    return [np.arange(a, min(a + cat.SKU_BLOCK, n)) for a in range(0, n, cat.SKU_BLOCK)]


def build_business(seed: int, skus: int, years: float) -> Business:
    """Master data, calendar and calendar effects (random stream ``[seed, 0]``)."""
    rng = np.random.default_rng([seed, 0])
    axis = cat.time_axis(years)
    suppliers = cat.draw_suppliers(rng, max(8, skus // 25))
    sku = cat.draw_skus(rng, skus, axis, len(suppliers))
    locs = cat.locations(N_STORES)
    cal = cat.calendar(axis)
    ch = dd.channels(locs)
    size = locs.set_index("location_id").loc[[c for c, t in zip(ch.ids, ch.types) if t == "store"], "size_m2"]
    day_of = {d: i for i, d in enumerate(axis.dates.date)}
    bf = [day_of[d] for d in cal.loc[cal["event"] == "Black Friday", "date"]]
    return Business(axis, sku, suppliers, locs, cal, ch, dd.log_calendar_effects(ch, axis, cal),
                    size.to_numpy(), bf)

