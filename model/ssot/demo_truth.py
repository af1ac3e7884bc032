"""The demo business's ground truth (``OUT_DIR/ground_truth/``, never ingested) and its ingest manifest.

* ``sku_truth.csv`` — per SKU: category, true own-price elasticity, cross-price elasticity to the
  competitor price index (0 where no competitor carries the SKU), promotion uplift and post-promotion dip
  (log demand), base rate (units/day at the reference price), popularity (fast | medium | slow |
  dead_stock), lifecycle and its dates, whether the price ever varies, competitors and stores carrying it.
* ``demand.parquet`` / ``prices.parquet`` — written block by block by ``demo_write``.
* ``dc_storage.csv`` — DC on-hand volume per day against its capacity.
* ``dirty_rows.csv`` — every deliberately bad row: file, 1-based row, kind, canonical field, the
  quarantine reason code ingest must give, and a detail.
* ``params.json`` — every generator setting and the declared ranges of the truth.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from ruamel.yaml import YAML

from model.ssot import demo_demand as dd
from model.ssot import demo_stock as ds
from model.ssot.demo_blocks import Business
from model.ssot.demo_catalog import (CATEGORIES, CROSS_ELASTICITY_RANGE, ELASTICITY_HALF_WIDTH, ELASTICITY_SD,
                                     POST_PROMO_DIP_RANGE, PROMO_UPLIFT_RANGE)
from model.ssot.demo_export import FILES, MAPPINGS

SLOW_BASE_RATE = 0.35  # units/day below which a SKU is a slow (intermittent) mover


def write_truth(out: Path, biz: Business, acc: dict, dc_volume: np.ndarray, dirty: list, seed: int) -> None:
    """Write sku_truth.csv, dirty_rows.csv, dc_storage.csv and params.json."""
    gt = out / "ground_truth"
    gt.mkdir(parents=True, exist_ok=True)
    sku = pd.concat([biz.sku.reset_index(drop=True), pd.concat(acc["sku_extra"], ignore_index=True)], axis=1)
    q = sku["base_rate"].rank(pct=True)
    sku["popularity"] = np.select([sku["lifecycle"] == "dead", q > 0.8, sku["base_rate"] < SLOW_BASE_RATE],
                                  ["dead_stock", "fast", "slow"], "medium")
    sku.loc[sku["n_competitors"] == 0, "cross_elasticity"] = 0.0
    start = pd.Timestamp(biz.axis.start)
    for col in ("launch_day", "eol_day", "dead_day"):
        valid = (sku[col] >= 0) & (sku[col] < biz.axis.n_days)
        sku[col.replace("_day", "_date")] = (start + pd.to_timedelta(sku[col], unit="D")).where(valid).dt.date
    keep = ["sku_id", "category", "subcategory", "price_family", "list_price", "unit_cost", "elasticity",
            "cross_elasticity", "promo_uplift", "post_promo_dip", "base_rate", "popularity", "lifecycle",
            "launch_date", "eol_date", "dead_date", "price_varies", "n_competitors", "stores_carrying"]
    sku[keep].to_csv(gt / "sku_truth.csv", index=False)
    pd.DataFrame(dirty).sort_values(["file", "row_number"]).to_csv(gt / "dirty_rows.csv", index=False)
    cap = float(biz.locs.loc[biz.locs["location_id"] == "DC1", "storage_m3"].iloc[0])
    pd.DataFrame({"date": biz.axis.dates.strftime("%Y-%m-%d"), "volume_m3": np.round(dc_volume, 3),
                  "capacity_m3": cap}).to_csv(gt / "dc_storage.csv", index=False)
    (gt / "params.json").write_text(json.dumps(_params(biz, seed, dc_volume, cap), indent=2, default=str) + "\n")


def _params(biz: Business, seed: int, dc_volume: np.ndarray, cap: float) -> dict:
    peak = int(np.argmax(dc_volume))
    return {
        "seed": seed, "skus": len(biz.sku), "start": str(biz.axis.start), "end": str(biz.axis.dates[-1].date()),
        "n_days": biz.axis.n_days, "locations": biz.locs["location_id"].tolist(),
        "categories": [{"name": c.name, "elasticity_mean": c.elasticity,
                        "elasticity_range": [round(c.elasticity - ELASTICITY_HALF_WIDTH, 4),
                                             round(c.elasticity + ELASTICITY_HALF_WIDTH, 4)],
                        "season_amp": c.season_amp, "peak_doy": c.peak_doy, "xmas": c.xmas} for c in CATEGORIES],
        "elasticity_sd": ELASTICITY_SD, "cross_elasticity_range": CROSS_ELASTICITY_RANGE,
        "promo_uplift_range": PROMO_UPLIFT_RANGE, "post_promo_dip_range": POST_PROMO_DIP_RANGE,
        "slow_base_rate": SLOW_BASE_RATE,
        "demand": {"nb_shape": dd.NB_SHAPE, "growth_per_year": dd.GROWTH_PER_YEAR, "dow": dd.DOW,
                   "events": dd.EVENTS, "promo_rate_per_year": dd.PROMO_RATE_PER_YEAR,
                   "post_promo_days": dd.POST_PROMO_DAYS, "competitors": dd.COMPETITORS},
        "stock": {"review_days": ds.REVIEW_DAYS, "split_share": ds.SPLIT_SHARE},
        "dc_storage": {"capacity_m3": cap, "peak_volume_m3": round(float(dc_volume.max()), 3),
                       "peak_date": str(biz.axis.dates[peak].date())},
    }


def write_manifest(out: Path) -> None:
    """One mapping YAML per export and the ``sources.yaml`` manifest listing them (paths relative)."""
    (out / "mappings").mkdir(parents=True, exist_ok=True)
    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    for name, mapping in MAPPINGS.items():
        with open(out / "mappings" / f"{name}.yaml", "w", encoding="utf-8") as f:
            y.dump(mapping, f)
    manifest = {"name": "demo-business",
                "files": [{"path": path, "kind": MAPPINGS[m]["kind"], "mapping": f"mappings/{m}.yaml"}
                          for path, m in FILES.items()]}
    with open(out / "sources.yaml", "w", encoding="utf-8") as f:
        y.dump(manifest, f)
