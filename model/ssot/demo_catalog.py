"""The demo business's master data: time axis, categories, SKUs, suppliers, locations, calendar, staff.

Everything here is drawn once per seed from ``numpy.random.Generator`` streams passed in by the caller;
nothing reads global random state. Money is in EUR, volumes in m³, weights in kg, durations in days
(the export layer converts to each source system's own units).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

HISTORY_END = dt.date(2025, 12, 31)  # the last day of history, whatever the length (so Q4 is always in)
SKU_BLOCK = 2000  # SKUs simulated together; a fixed size keeps the random streams independent of --skus


@dataclass(frozen=True)
class Category:
    """Per-category truth. ``elasticity`` is the mean own-price elasticity (d log q / d log p);
    ``season_amp`` the amplitude of the annual cosine in log demand, peaking on day-of-year ``peak_doy``;
    ``xmas`` the extra log demand at the top of the Christmas run-up; ``price_eur`` the median list price;
    ``cost_ratio`` unit cost / list price; ``litres`` the median unit volume; ``density_g_l`` grams per litre."""

    name: str
    elasticity: float
    price_eur: float
    season_amp: float
    peak_doy: int
    xmas: float
    cost_ratio: float
    litres: float
    density_g_l: float
    packs: tuple[int, ...]
    subcategories: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category("Electronics", -1.6, 79.0, 0.15, 340, 0.55, 0.74, 2.0, 400, (1, 2, 5, 10),
             ("Audio", "Accessories", "Smart Home")),
    Category("Home & Kitchen", -1.3, 24.0, 0.10, 320, 0.30, 0.55, 3.0, 300, (4, 6, 12),
             ("Cookware", "Storage", "Decor")),
    Category("Toys & Games", -2.0, 19.0, 0.25, 350, 0.90, 0.50, 2.5, 150, (6, 12),
             ("Board Games", "Building", "Plush")),
    Category("Garden", -1.2, 29.0, 0.70, 140, 0.00, 0.55, 6.0, 500, (2, 4, 6),
             ("Tools", "Plants Care", "Outdoor Living")),
    Category("Sports & Outdoors", -1.8, 34.0, 0.35, 170, 0.20, 0.56, 4.0, 200, (2, 4, 6),
             ("Fitness", "Camping", "Cycling")),
    Category("Beauty & Care", -2.5, 12.0, 0.05, 350, 0.50, 0.40, 0.4, 900, (6, 12, 24),
             ("Skin", "Hair", "Fragrance")),
    Category("Apparel", -3.0, 29.0, 0.20, 100, 0.25, 0.45, 1.5, 250, (5, 10),
             ("Tops", "Outerwear", "Accessories")),
    Category("Books & Media", -0.8, 15.0, 0.10, 355, 0.60, 0.66, 1.0, 600, (10, 20),
             ("Fiction", "Non-fiction", "Games")),
    Category("Pet Supplies", -1.0, 16.0, 0.05, 180, 0.10, 0.60, 3.0, 700, (4, 8, 12),
             ("Food", "Care", "Toys")),
    Category("Office", -1.4, 9.0, 0.30, 245, 0.10, 0.50, 1.0, 500, (10, 20, 50),
             ("Paper", "Writing", "Organisation")),
)

ELASTICITY_SD = 0.25        # SKU-level noise around the category mean
ELASTICITY_HALF_WIDTH = 0.6  # truncation: |e_i − e_category| ≤ this
BASE_RATE_MIN = 0.18        # units/day of the slowest SKU; Pareto(α = 1.3) above it, capped at 400 ×
CROSS_ELASTICITY_RANGE = (0.2, 1.2)
PROMO_UPLIFT_RANGE = (0.15, 0.50)   # extra log demand during a promotion, beyond the price effect
POST_PROMO_DIP_RANGE = (-0.30, -0.05)  # log demand in the 7 days after a promotion

STORES = (  # id, city, region (German state), sales area m²
    ("S01", "München", "BY", 900.0), ("S02", "Köln", "NW", 700.0),
    ("S03", "Hamburg", "HH", 800.0), ("S04", "Leipzig", "SN", 600.0),
)


@dataclass(frozen=True)
class TimeAxis:
    """Days ``t = 0 … n_days−1`` from ``start`` to ``HISTORY_END`` inclusive."""

    start: dt.date
    n_days: int

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.n_days, freq="D")


def time_axis(years: float) -> TimeAxis:
    n = int(round(years * 365.25))
    if n < 28:
        raise ValueError(f"years must cover at least 28 days of history; got years={years}")
    return TimeAxis(HISTORY_END - dt.timedelta(days=n - 1), n)


def draw_skus(rng: np.random.Generator, n: int, axis: TimeAxis, n_suppliers: int) -> pd.DataFrame:
    """SKU master plus per-SKU truth (elasticities, uplift, base rate, lifecycle), one row per SKU.

    ``base_rate``: expected units/day over all channels at the reference price, Pareto(α=1.3) tailed
    from ``BASE_RATE_MIN`` (fast movers to intermittent slow movers). Lifecycle days index the time axis."""
    cat_idx = rng.integers(0, len(CATEGORIES), n)
    cats = [CATEGORIES[c] for c in cat_idx]
    e_mean = np.array([c.elasticity for c in cats])
    noise = np.clip(rng.normal(0, ELASTICITY_SD, n), -ELASTICITY_HALF_WIDTH, ELASTICITY_HALF_WIDTH)
    price = np.array([c.price_eur for c in cats]) * rng.lognormal(0, 0.5, n)
    price = np.maximum(np.floor(price) + 0.99, 1.99)
    litres = np.array([c.litres for c in cats]) * rng.lognormal(0, 0.6, n)
    df = pd.DataFrame({
        "sku_id": [f"A{100000 + i}" for i in range(n)],
        "category": [c.name for c in cats],
        "subcategory": [c.subcategories[k] for c, k in zip(cats, rng.integers(0, 3, n))],
        "list_price": price,
        "unit_cost": np.round(price * np.array([c.cost_ratio for c in cats]) * rng.uniform(0.9, 1.1, n), 2),
        "case_pack": [c.packs[k % len(c.packs)] for c, k in zip(cats, rng.integers(0, 6, n))],
        "supplier_idx": rng.integers(0, n_suppliers, n),
        "volume_m3": np.round(litres, 3) / 1000.0,
        "weight_kg": np.round(litres * np.array([c.density_g_l for c in cats]) * rng.uniform(0.7, 1.3, n)) / 1000.0,
        "elasticity": np.round(e_mean + noise, 4),
        "base_rate": BASE_RATE_MIN * np.minimum(rng.pareto(1.3, n) + 1.0, 400.0),
    })
    df["name"] = df["subcategory"] + " item " + df["sku_id"].str[1:]
    df["moq"] = df["case_pack"] * rng.integers(1, 4, n)
    df["price_family"] = _price_families(rng, df)
    family_price = df.groupby("price_family")["list_price"].transform("first")
    # a family is one product line at one price: members keep their cost ratio to the family's price
    df["unit_cost"] = np.round(df["unit_cost"] * family_price / df["list_price"], 2)
    df["list_price"] = family_price
    return df.join(_lifecycle(rng, n, axis)).join(_response_truth(rng, n))


def _price_families(rng: np.random.Generator, df: pd.DataFrame) -> np.ndarray:
    """About 10 % of SKUs join the price family of the nearest earlier non-joining SKU of their
    subcategory (family members carry one price path); the others are a family of their own."""
    fam = df["sku_id"].str.replace("A", "PF", regex=False)
    groups = [np.arange(len(df)) // SKU_BLOCK, df["category"], df["subcategory"]]  # never across blocks
    first = df.groupby(groups).cumcount().to_numpy() == 0
    joins = (rng.random(len(df)) < 0.10) & ~first
    return fam.where(~joins).groupby(groups).ffill().to_numpy(dtype=object)


def _lifecycle(rng: np.random.Generator, n: int, axis: TimeAxis) -> pd.DataFrame:
    """Launches (15 %), ends of life (10 %), dead stock (5 %) and SKUs without price variation (10 %).

    Day indices: ``launch_day`` (−1 = before history), ``eol_day`` (n_days = none), ``dead_day``
    (demand × 0.02 from then on, n_days = never)."""
    T = axis.n_days
    u = rng.random(n)
    kind = np.select([u < 0.15, u < 0.25, u < 0.30, u < 0.40], ["launch", "eol", "dead", "fixed_price"], "regular")
    lo, hi = min(30, T // 4), max(T - 30, T // 2 + 1)
    launch = np.where(kind == "launch", rng.integers(lo, hi, n), -1)
    eol = np.where(kind == "eol", rng.integers(max(lo, T // 3), hi, n), T)
    dead = np.where(kind == "dead", rng.integers(lo, hi, n), T)
    return pd.DataFrame({"lifecycle": kind, "launch_day": launch, "eol_day": eol, "dead_day": dead})


def _response_truth(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Cross-price elasticity to the competitor price index, promotion uplift and post-promo dip."""
    return pd.DataFrame({
        "cross_elasticity": np.round(rng.uniform(*CROSS_ELASTICITY_RANGE, n), 4),
        "promo_uplift": np.round(rng.uniform(*PROMO_UPLIFT_RANGE, n), 4),
        "post_promo_dip": np.round(rng.uniform(*POST_PROMO_DIP_RANGE, n), 4),
        "safety_z": rng.uniform(0.3, 1.8, n),          # the (s,S) planner's safety factor
        "cover_days": rng.integers(10, 43, n),          # order-up-to cover beyond the reorder point
        "plan_error": rng.lognormal(0, 0.25, n),        # planner's mis-estimate of the base rate
    })


def draw_suppliers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Suppliers with lead time mean (3–21 days) and sd, and the weekday they take orders (0 = Monday)."""
    mean = rng.integers(3, 22, n).astype(float)
    return pd.DataFrame({
        "supplier_id": [f"SUP{i + 1:03d}" for i in range(n)],
        "name": [f"Supplier {i + 1:03d} GmbH" for i in range(n)],
        "lead_time_days": mean,
        "lead_time_sd_days": np.round(mean * rng.uniform(0.08, 0.3, n), 2),
        "min_order_value": rng.choice([0.0, 100.0, 250.0, 500.0], n),
        "order_weekday": rng.integers(0, 5, n),
    })


def locations(n_stores: int) -> pd.DataFrame:
    """One DC (DC1) serving the web shop (WEB) and the marketplace channel (MKT), plus ``n_stores`` stores.
    ``storage_m3`` of the DC is filled in after the stock simulation (tight in Q4)."""
    rows = [("DC1", "Zentrallager Kassel", "warehouse", "HE", "Kassel", np.nan, 12000.0),
            ("WEB", "Webshop", "web", "national", "", np.nan, np.nan),
            ("MKT", "Marktplatz", "marketplace", "national", "", np.nan, np.nan)]
    rows += [(sid, f"Filiale {city}", "store", region, city, np.nan, m2)
             for sid, city, region, m2 in STORES[:n_stores]]
    return pd.DataFrame(rows, columns=["location_id", "name", "type", "region", "city", "storage_m3", "size_m2"])


def easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def calendar(axis: TimeAxis) -> pd.DataFrame:
    """German public holidays (national and regional) and retail peak events within the history."""
    rows = []
    for y in range(axis.start.year, HISTORY_END.year + 1):
        e = easter(y)
        nov1 = dt.date(y, 11, 1)
        black_friday = nov1 + dt.timedelta(days=(4 - nov1.weekday()) % 7 + 21)
        jul1 = dt.date(y, 7, 1)
        summer_sale = jul1 + dt.timedelta(days=(1 - jul1.weekday()) % 7 + 7)
        rows += [
            (dt.date(y, 1, 1), "Neujahr", "holiday", "national"),
            (dt.date(y, 1, 6), "Heilige Drei Könige", "holiday", "BY"),
            (e - dt.timedelta(days=2), "Karfreitag", "holiday", "national"),
            (e + dt.timedelta(days=1), "Ostermontag", "holiday", "national"),
            (dt.date(y, 5, 1), "Tag der Arbeit", "holiday", "national"),
            (e + dt.timedelta(days=39), "Christi Himmelfahrt", "holiday", "national"),
            (e + dt.timedelta(days=50), "Pfingstmontag", "holiday", "national"),
            (e + dt.timedelta(days=60), "Fronleichnam", "holiday", "BY"),
            (e + dt.timedelta(days=60), "Fronleichnam", "holiday", "NW"),
            (dt.date(y, 10, 3), "Tag der Deutschen Einheit", "holiday", "national"),
            (dt.date(y, 10, 31), "Reformationstag", "holiday", "HH"),
            (dt.date(y, 10, 31), "Reformationstag", "holiday", "SN"),
            (dt.date(y, 11, 1), "Allerheiligen", "holiday", "BY"),
            (dt.date(y, 11, 1), "Allerheiligen", "holiday", "NW"),
            (dt.date(y, 12, 24), "Heiligabend", "peak", "national"),
            (dt.date(y, 12, 25), "1. Weihnachtstag", "holiday", "national"),
            (dt.date(y, 12, 26), "2. Weihnachtstag", "holiday", "national"),
            (dt.date(y, 12, 31), "Silvester", "peak", "national"),
            (black_friday, "Black Friday", "peak", "national"),
            (black_friday + dt.timedelta(days=3), "Cyber Monday", "peak", "national"),
            (summer_sale, "Summer Sale Day 1", "promotion", "MKT"),
            (summer_sale + dt.timedelta(days=1), "Summer Sale Day 2", "promotion", "MKT"),
        ]
    cal = pd.DataFrame(rows, columns=["date", "event", "event_type", "scope"])
    keep = (cal["date"] >= axis.start) & (cal["date"] <= HISTORY_END)
    return cal[keep].sort_values(["date", "event", "scope"]).reset_index(drop=True)


def draw_staff(rng: np.random.Generator, locs: pd.DataFrame, dc_orders_per_day: float) -> pd.DataFrame:
    """Employees of the DC (receive|putaway|pick|pack) and the stores (cashier|receive).

    DC headcount ≈ orders/day ÷ 12 (≥ 12); stores 6–10 each. Full-time contracts 30–40 h/week (min)
    up to 40–48 h (max), part-time 10–20 up to 20–30 h, hourly cost 16–26 EUR."""
    rows = []
    n_dc = max(12, int(round(dc_orders_per_day / 12)))
    dc_skills = ("receive|putaway", "pick|pack", "pick", "pack", "receive|pick|pack", "putaway|pick")
    for loc, n, skills in [("DC1", n_dc, dc_skills)] + [
            (s, int(rng.integers(6, 11)), ("cashier", "cashier|receive")) for s in
            locs.loc[locs["type"] == "store", "location_id"]]:
        full = rng.random(n) < 0.6
        lo = np.where(full, rng.integers(30, 41, n), rng.integers(10, 21, n)).astype(float)
        hi = np.where(full, rng.integers(40, 49, n), rng.integers(20, 31, n)).astype(float)
        rows.append(pd.DataFrame({
            "location_id": loc,
            "skills": rng.choice(skills, n),
            "contract_min_hours": lo,
            "contract_max_hours": np.maximum(hi, lo),
            "hourly_cost": np.round(rng.uniform(16, 26, n), 2),
        }))
    staff = pd.concat(rows, ignore_index=True)
    staff.insert(0, "employee_id", [f"E{i + 1:05d}" for i in range(len(staff))])
    staff.insert(1, "name", [f"Mitarbeiter {i + 1:05d}" for i in range(len(staff))])
    return staff
