"""Inputs of the pricing stage read from the SSOT: the history the response model is fitted on, and each
SKU's current state (regular price, baseline demand, competitor price, stock, markdown flag)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from model.ssot import derived
from model.ssot.store import table_exists
from scenarios.schema.pricing import PricingConfig

HISTORY = ["sku_id", "category", "period_start", "units", "avg_price", "promo_share", "competitor_price"]
DECIMALS = 9  # planning inputs are rounded to this many decimals (engine-independent plans)
POST_PROMO_DAYS = 7  # days after a promotion whose demand is modelled apart (pantry loading, customers who waited)


def load_history(con, freq: str = "W") -> pd.DataFrame:
    """Per SKU × period (``freq``: ``D`` day, ``W`` week, ``M`` month) from its first to its last sale: units,
    the price and promotion *in effect*, competitor price, category, and the controls ``post_promo`` (share of
    days in the ``POST_PROMO_DAYS`` after a promotion) and ``event_<type>`` (share of days with a calendar
    event of that type — holiday, peak, promotion — when the store has a calendar).

    Prices are read from sales lines, so a period's unit-weighted average price and promo share depend on
    which days happened to sell — for slow movers that makes both regressors functions of the outcome (a
    promotion week without sales would look like a regular week). They are therefore built from days:
    each day's price and promotion state are those of its sales, carried forward over days without sales,
    and a period's ``avg_price`` / ``promo_share`` are the means over its days. Days on which any location
    of the SKU was out of stock are dropped before aggregating (``freq="D"``: the day; coarser: the whole
    period): they measure stock, not demand, and stock-outs cluster in cheap (promotion, markdown) periods,
    so keeping them biases elasticities toward zero.
    """
    daily = derived.demand_history(con, freq="D", level="sku")
    if daily.empty:
        raise ValueError("the store has no sales history: ingest sales before planning prices")
    daily = daily.sort_values(["sku_id", "period_start"])
    sold = daily["units"] > 0
    first = sold.groupby(daily["sku_id"]).cummax()
    last = sold[::-1].groupby(daily["sku_id"][::-1]).cummax()[::-1]
    daily = daily[first & last].copy()  # a SKU's life: first to last sale (no zeros before launch or after its end)
    daily["promo_share"] = daily["promo_share"].where(daily["units"] > 0)
    daily["promo_share"] = daily.groupby("sku_id")["promo_share"].ffill().fillna(0.0)
    daily["post_promo"] = _post_promo(daily)
    daily["period_start"] = pd.to_datetime(daily["period_start"])
    events = _event_days(con)
    for col in events.columns:
        daily[col] = daily["period_start"].map(events[col]).fillna(0.0).to_numpy()
    if freq == "D":
        h = daily[~(daily["stockout_days"] > 0)]
    else:
        daily["period"] = daily["period_start"].dt.to_period(freq).dt.start_time
        out = daily.groupby(["sku_id", "period"])["stockout_days"].transform("max") > 0
        h = daily[~out].groupby(["sku_id", "period"], as_index=False).agg(
            units=("units", "sum"), avg_price=("avg_price", "mean"), promo_share=("promo_share", "mean"),
            competitor_price=("competitor_price", "mean"), post_promo=("post_promo", "mean"),
            **{c: (c, "mean") for c in events.columns}).rename(columns={"period": "period_start"})
    cat = derived.sku_master(con)[["sku_id", "category"]]
    h = h.merge(cat, on="sku_id", how="left").fillna({"category": "(none)"})
    return h[HISTORY + ["post_promo", *events.columns]].reset_index(drop=True)


def _post_promo(daily: pd.DataFrame) -> np.ndarray:
    """1 on the ``POST_PROMO_DAYS`` days after a promotion ends (days in a SKU's contiguous daily series)."""
    on = daily["promo_share"].to_numpy(float) >= 0.5
    sku = daily["sku_id"].to_numpy()
    idx = np.arange(len(on))
    last_on = pd.Series(np.where(on, idx, np.nan)).groupby(sku).ffill().to_numpy()
    return (~on & (idx - last_on <= POST_PROMO_DAYS)).astype(float)


def _event_days(con) -> pd.DataFrame:
    """Per date, 1 for each calendar event type held that day (any scope); empty without a calendar."""
    if not table_exists(con, "calendar"):
        return pd.DataFrame(index=pd.DatetimeIndex([]))
    cal = con.execute("SELECT date, coalesce(event_type, 'event') AS event_type FROM calendar").df()
    if cal.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([]))
    cal["date"] = pd.to_datetime(cal["date"])
    name = "event_" + cal["event_type"].astype(str).str.lower().str.replace(r"[^a-z0-9]+", "_", regex=True)
    return pd.crosstab(cal["date"], name).clip(upper=1).astype(float)


def current_state(history: pd.DataFrame, elasticities: pd.DataFrame, recent_weeks: int) -> pd.DataFrame:
    """Per SKU: ``current_price`` (last regular price of the last ``recent_weeks``), ``base_units`` (mean
    weekly units of those weeks restated at the current price: ``units·(p_cur/p_t)^e``), the last
    ``competitor_price`` and ``last_period``."""
    h = history.sort_values(["sku_id", "period_start"]).groupby("sku_id").tail(recent_weeks)
    h = h[h["avg_price"].notna()]
    regular = h[h["promo_share"].fillna(0) < 0.5]
    price = regular.groupby("sku_id")["avg_price"].last().combine_first(h.groupby("sku_id")["avg_price"].last())
    e = elasticities.set_index("sku_id")["elasticity"].reindex(h["sku_id"]).fillna(0.0).to_numpy()
    restated = h["units"].to_numpy(float) * (price.reindex(h["sku_id"]).to_numpy() / h["avg_price"].to_numpy()) ** e
    out = pd.DataFrame({"sku_id": h["sku_id"].to_numpy(), "base_units": restated}).groupby("sku_id").mean()
    out["current_price"] = price
    out["competitor_price"] = h.groupby("sku_id")["competitor_price"].last()
    out["last_period"] = h.groupby("sku_id")["period_start"].max()
    return out.reset_index()


def planning_inputs(con, history: pd.DataFrame, elasticities: pd.DataFrame, cfg: PricingConfig,
                    baseline: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``skus`` and ``weeks`` frames of :func:`model.pricing.instance.make_instance`.

    ``baseline`` (optional): ``sku_id, week_start, base_units`` — expected units at the current price per
    week (the forecast); without it every week gets the recent mean. The ladder is centred on the current
    regular price. SKUs that ended (past ``eol_date``) or sold nothing in the last ``recent_weeks`` are not
    planned. SKUs whose elasticity is not identifiable, or whose pooled estimate is not negative, hold
    their price — except flagged slow movers, which are marked down on their category's pooled elasticity
    (``elasticity_source = "category_pooled"``, with the category's spread as ``elasticity_se``). A SKU with
    stock is flagged (``clearance``) when it reaches end of life within the horizon or its stock covers more
    than ``slow_mover_cover_weeks`` of baseline demand (``cover_weeks``); ``flag_reason`` says which:
    ``end_of_life``, ``slow_mover``, ``excess`` (cover beyond ``excess_cover_weeks``: over a year of supply)
    or ``none``. :func:`model.pricing.instance.make_instance` then splits the flagged into markdowns and
    liquidation candidates by what the markdown ladder can sell, whatever the reason.
    """
    state = current_state(history, elasticities, cfg.recent_weeks)
    master = derived.sku_master(con)[["sku_id", "price_family", "unit_cost", "list_price", "eol_date"]]
    stock = derived.stock_positions(con)
    stock = (stock["on_hand"] + stock["on_order"]).groupby(stock["sku_id"]).sum().rename("stock")
    skus = state.merge(master, on="sku_id", how="inner").merge(stock, on="sku_id", how="left")
    skus = skus.merge(_elasticity_columns(elasticities), on="sku_id", how="left")
    as_of = pd.to_datetime(skus["last_period"]).max()
    active = pd.to_datetime(skus["last_period"]) > as_of - pd.Timedelta(weeks=cfg.recent_weeks)
    ended = pd.to_datetime(skus["eol_date"]).le(as_of).fillna(False)
    skus = skus[skus["unit_cost"].notna() & skus["current_price"].gt(0) & active & ~ended]
    week_starts = pd.date_range(as_of + pd.Timedelta(weeks=1), periods=cfg.horizon_weeks, freq="7D")
    weeks = _weeks(skus, week_starts, baseline)
    weekly = weeks.groupby("sku_id")["base_units"].mean().reindex(skus["sku_id"]).to_numpy()
    eol = pd.to_datetime(skus["eol_date"]).le(week_starts[-1]).to_numpy()
    cover = skus["stock"].fillna(0).to_numpy() / np.maximum(weekly, 1e-9)
    flag = np.select([eol, cover > cfg.excess_cover_weeks, cover > cfg.slow_mover_cover_weeks],
                     ["end_of_life", "excess", "slow_mover"], "none")
    flag = np.where(skus["stock"].gt(0).to_numpy(), flag, "none")
    skus = skus.assign(list_price=skus["current_price"], family=skus["price_family"], clearance=flag != "none",
                       flag_reason=flag, cover_weeks=cover)
    skus = skus.assign(**response_used(skus))
    cols = ["sku_id", "unit_cost", "list_price", "current_price", "elasticity", "family", "stock", "clearance",
            "flag_reason", "cover_weeks", "hold", "elasticity_se", "elasticity_source"]
    # engines sum the history in different orders (DuckDB vs Spark: ~1e-12 apart); rounded inputs make exact
    # ties between price paths (e.g. which of two equal weeks takes the deeper markdown) break the same way
    num = ["unit_cost", "current_price", "list_price", "elasticity", "elasticity_se", "stock"]
    skus[num] = skus[num].astype(float).round(DECIMALS)
    weeks[["base_units", "competitor_price"]] = weeks[["base_units", "competitor_price"]].astype(float).round(DECIMALS)
    return skus[cols].reset_index(drop=True), weeks


def response_used(skus: pd.DataFrame) -> dict[str, np.ndarray]:
    """The elasticity each SKU is planned with: ``elasticity, elasticity_se, elasticity_source, hold``.

    ``own`` — its (partially pooled) estimate, when identifiable and negative; ``category_pooled`` — a flagged
    slow mover (``clearance``) without one is marked down on its category's pooled mean (``category_mean``,
    uncertainty ``pooled_se``) when that is negative; ``held`` — every other SKU keeps its current price
    (elasticity 0). ``skus`` needs ``elasticity, se, identifiable, category_mean, pooled_se, clearance``.
    """
    own = (skus["identifiable"].fillna(False).astype(bool) & (skus["elasticity"] < 0)).to_numpy()
    pooled = (skus["clearance"].fillna(False).astype(bool) & (skus["category_mean"] < 0)).to_numpy() & ~own
    return {"elasticity": np.select([own, pooled], [skus["elasticity"], skus["category_mean"]], 0.0),
            "elasticity_se": np.select([own, pooled], [skus["se"], skus["pooled_se"]], np.nan),
            "elasticity_source": np.select([own, pooled], ["own", "category_pooled"], "held"),
            "hold": ~own & ~pooled}


def _elasticity_columns(est: pd.DataFrame) -> pd.DataFrame:
    """Per SKU: ``elasticity, se, identifiable``, the category's pooled mean ``category_mean`` and
    ``pooled_se``, the spread a SKU of the category has around it: ``√(sd² + category_se²)`` with ``sd``
    the standard deviation of the category's identifiable estimates (0 with fewer than two)."""
    out = est[["sku_id", "elasticity", "se", "identifiable", "category", "category_mean", "category_se"]].copy()
    ok = out["identifiable"].fillna(False).astype(bool)
    sd = out[ok].groupby("category")["elasticity"].std().reindex(out["category"]).fillna(0.0).to_numpy()
    out["pooled_se"] = np.sqrt(sd ** 2 + out["category_se"].fillna(0.0).to_numpy() ** 2)
    return out.drop(columns=["category", "category_se"])


def _weeks(skus: pd.DataFrame, week_starts: pd.DatetimeIndex, baseline: pd.DataFrame | None) -> pd.DataFrame:
    grid = pd.DataFrame({"sku_id": np.repeat(skus["sku_id"].to_numpy(), len(week_starts)),
                         "week_start": np.tile(week_starts.to_numpy(), len(skus))})
    recent = skus.set_index("sku_id")["base_units"]
    if baseline is not None and len(baseline):
        b = baseline.assign(week_start=pd.to_datetime(baseline["week_start"]))
        b = b.groupby(["sku_id", "week_start"], as_index=False)["base_units"].sum()
        grid = _align_weeks(grid, b, week_starts)
        grid["base_units"] = grid["base_units"].fillna(grid["sku_id"].map(recent))
    else:
        grid["base_units"] = grid["sku_id"].map(recent)
    grid["base_units"] = grid["base_units"].clip(lower=0).fillna(0.0)
    grid["competitor_price"] = grid["sku_id"].map(skus.set_index("sku_id")["competitor_price"])
    return grid


def _align_weeks(grid: pd.DataFrame, baseline: pd.DataFrame, week_starts: pd.DatetimeIndex) -> pd.DataFrame:
    """Map the forecast's weeks onto the plan's by order (the h-th forecast week is the h-th plan week)."""
    order = {w: i for i, w in enumerate(sorted(baseline["week_start"].unique()))}
    b = baseline.assign(h=baseline["week_start"].map(order))
    b = b[b["h"] < len(week_starts)].assign(week_start=lambda d: week_starts[d["h"].to_numpy()])
    return grid.merge(b[["sku_id", "week_start", "base_units"]], on=["sku_id", "week_start"], how="left")
