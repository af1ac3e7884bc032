"""Safety stock and reorder points from forecast quantiles and lead-time variability.

For each series (SKU, or SKU × location) the demand of week h is known through the forecast quantiles
``q0.1 … q0.9``; the replenishment lead time L (weeks) is random with mean and standard deviation from
:func:`model.ssot.derived.lead_time_stats`. The *protection-period demand* is

    D = Σ_{h=1}^{⌊L + R⌋} D_h + frac(L + R) · D_{⌊L+R⌋+1}

(R the review period, weeks) and is sampled by Monte Carlo: L from a normal distribution truncated at 0,
each D_h by inverse-CDF sampling from the piecewise-linear quantile function through the forecast
quantiles, with exponential tails beyond q0.1 and q0.9 (floored at zero). Weekly demands are taken
independent given the forecast. No normal approximation of D is made.

Reorder point r for
* a cycle service level α: ``r = F_D⁻¹(α)`` (P(no stock-out in a cycle) = α);
* a fill rate β: the smallest r with ``E[(D - r)⁺] ≤ (1 - β) Q`` (expected units short per cycle at most
  the share 1 - β of the order quantity Q; S&S eq. 5.33's loss-function condition).
Safety stock is ``r - E[D]`` (not below 0).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from model.forecast.contract import QCOLS, QUANTILES


def sample_weekly(q: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Demand samples by inverse CDF: ``q`` (n, H, 9) quantiles, ``u`` (n, H, m) uniforms → (n, H, m).

    Linear between the forecast quantiles; beyond q0.1 and q0.9 exponential tails whose scales make the
    outer spacings exact (``θ = (q0.9 - q0.8) / ln 2`` above, ``(q0.2 - q0.1) / ln 2`` below), floored at 0.
    """
    q = np.maximum.accumulate(np.maximum(np.asarray(q, float), 0.0), axis=-1)
    levels = np.asarray(QUANTILES)
    k = np.clip(np.searchsorted(levels, u, side="right") - 1, 0, len(levels) - 2)
    lo = np.take_along_axis(q, k, axis=-1)
    hi = np.take_along_axis(q, k + 1, axis=-1)
    mid = lo + (u - levels[k]) / (levels[k + 1] - levels[k]) * (hi - lo)
    th_hi = (q[..., -1:] - q[..., -2:-1]) / np.log(2)
    th_lo = (q[..., 1:2] - q[..., :1]) / np.log(2)
    with np.errstate(divide="ignore"):
        upper = q[..., -1:] + th_hi * np.log((1 - levels[-1]) / np.maximum(1 - u, 1e-12))
        lower = q[..., :1] - th_lo * np.log(levels[0] / np.maximum(u, 1e-12))
    return np.where(u > levels[-1], upper, np.where(u < levels[0], np.maximum(lower, 0.0), mid))


def protection_demand(q: np.ndarray, lead_mean_w: np.ndarray, lead_sd_w: np.ndarray, review_w: float,
                      n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Samples (n, m) of demand over lead time + review period (module docstring); ``q`` is (n, H, 9)."""
    lead = np.maximum(rng.normal(lead_mean_w[:, None], lead_sd_w[:, None], (q.shape[0], n_samples)), 0.0) + review_w
    q = q[:, :min(q.shape[1], int(np.ceil(lead.max())) + 1)]
    n, horizon, _ = q.shape
    weekly = sample_weekly(q, rng.random((n, horizon, n_samples)))
    cum = np.concatenate([np.zeros((n, 1, n_samples)), np.cumsum(weekly, axis=1)], axis=1)
    whole = np.minimum(np.floor(lead).astype(int), horizon)
    frac = np.where(whole < horizon, lead - whole, 0.0)
    take = lambda k: np.take_along_axis(cum, k[:, None, :], axis=1)[:, 0, :]  # noqa: E731
    return take(whole) + frac * (take(np.minimum(whole + 1, horizon)) - take(whole))


def reorder_point(samples: np.ndarray, service_level: float, service_type: str,
                  order_qty: np.ndarray | None = None) -> np.ndarray:
    """Reorder point per row of ``samples`` (n, m) for a cycle service level or a fill rate (docstring)."""
    if not 0 < service_level < 1:
        raise ValueError(f"service_level must be in (0, 1), got {service_level}")
    if service_type == "cycle":
        return np.quantile(samples, service_level, axis=1)
    if service_type != "fill_rate":
        raise ValueError(f"service_type must be 'cycle' or 'fill_rate', got {service_type!r}")
    if order_qty is None:
        raise ValueError("a fill-rate target needs the order quantity Q per series (order_qty)")
    allowed = (1 - service_level) * np.asarray(order_qty, float)
    srt = np.sort(samples, axis=1)
    m = srt.shape[1]
    # E[(D - r)+] at r = each sorted sample, decreasing in the index
    tail = np.cumsum(srt[:, ::-1], axis=1)[:, ::-1]
    count = np.arange(m, 0, -1)
    loss = (tail - count * srt) / m
    ok = loss <= allowed[:, None]
    first = np.where(ok.any(axis=1), ok.argmax(axis=1), m - 1)
    return np.maximum(srt[np.arange(len(srt)), first], 0.0)


def reorder_points(forecast: pd.DataFrame, lead: pd.DataFrame, *, service_level: float, service_type: str,
                   order_qty: pd.Series | None = None, review_weeks: float = 1.0, n_samples: int = 1000,
                   seed: int = 0) -> pd.DataFrame:
    """Reorder point and safety stock per series from a forecast table and lead times.

    ``forecast``: the forecast contract (``series_id, period_start, horizon, mean, q0.1 … q0.9``), weekly.
    ``lead``: ``series_id, lead_time_mean_days, lead_time_sd_days``. ``order_qty``: expected order size
    per series (units, indexed by series_id; default one review period of mean demand).
    Returns ``series_id, sku_id, location_id, lead_time_weeks, protection_mean, protection_sd,
    reorder_point, safety_stock, service_type, service_level``.
    """
    missing = [c for c in ("series_id", "horizon", *QCOLS) if c not in forecast.columns]
    if missing:
        raise ValueError(f"forecast: missing columns {missing} (see model/forecast/contract.py)")
    f = forecast.sort_values(["series_id", "horizon"])
    ids = f["series_id"].drop_duplicates().to_numpy()
    horizon = f.groupby("series_id").size()
    if horizon.nunique() != 1:
        raise ValueError("forecast: every series needs the same number of horizons")
    q = f[list(QCOLS)].to_numpy(float).reshape(len(ids), int(horizon.iloc[0]), len(QCOLS))
    lt = lead.set_index("series_id").reindex(ids)
    if lt["lead_time_mean_days"].isna().any():
        raise ValueError(f"lead: no lead time for series {list(ids[lt['lead_time_mean_days'].isna()][:5])}")
    mean_w = lt["lead_time_mean_days"].to_numpy(float) / 7
    sd_w = lt["lead_time_sd_days"].fillna(0).to_numpy(float) / 7
    samples = protection_demand(q, mean_w, sd_w, review_weeks, n_samples, np.random.default_rng(seed))
    weekly_mean = q[:, :, 4].mean(axis=1) if "mean" not in f else f["mean"].to_numpy(float).reshape(q.shape[:2]).mean(axis=1)
    qty = (order_qty.reindex(ids).to_numpy(float) if order_qty is not None else weekly_mean * review_weeks)
    rop = reorder_point(samples, service_level, service_type, np.maximum(qty, 1e-9))
    mu = samples.mean(axis=1)
    parts = pd.Series(ids).astype(str).str.split("@", n=1, expand=True).reindex(columns=[0, 1])
    return pd.DataFrame({"series_id": ids, "sku_id": parts[0].to_numpy(), "location_id": parts[1].to_numpy(),
                         "lead_time_weeks": mean_w, "protection_mean": mu, "protection_sd": samples.std(axis=1),
                         "reorder_point": rop, "safety_stock": np.maximum(rop - mu, 0.0),
                         "service_type": service_type, "service_level": service_level})
