"""Price response per SKU: own-price elasticity, cross-price elasticity to the competitor, promotion lift.

Model (per SKU ``s``, periods ``t`` of its history; units per period, prices in currency/unit)::

    E[units_t] = exp( a + e·log p_t + g·log comp_t + h·promo_t + d·trend_t + Σ_j (α_j sin + β_j cos)(2π j t/P) )

``p`` the average selling price, ``comp`` the competitor price, ``promo`` the share of units sold on
promotion, ``trend`` and ``t`` in years (``P = 1``: annual seasonality, ``j = 1…J`` harmonics); where the history
has them, controls for the post-promotion dip (``post_promo``), calendar events (``event_*``) and, on daily
histories, the weekday (on the demo they cut the median absolute error from 0.265 to 0.201). Fitted by Poisson
pseudo-maximum likelihood (IRLS), consistent for any multiplicative mean model and fine with zero-sales
periods, with heteroskedasticity-robust (HC3 sandwich) standard errors.

Partial pooling (empirical Bayes): within a category the raw estimates ``ê_s`` (standard error ``σ_s``) are
treated as ``ê_s ~ N(e_s, σ_s²)``, ``e_s ~ N(m, τ²)``; ``m`` per category and ``τ²`` over all categories by
Paule–Mandel, and each SKU gets
the posterior mean ``(1 − B_s)·ê_s + B_s·m`` with ``B_s = σ_s²/(σ_s² + τ²)`` and variance
``(1 − B_s)·σ_s² + B_s²·Var(m)``. SKUs with little price variation (large ``σ_s``) lean on their category.
SKUs with no price variation, too few selling periods or a singular fit are flagged not identifiable and
get no elasticity (NaN) — the planner holds their price.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

HISTORY_COLUMNS = ("sku_id", "category", "period_start", "units", "avg_price")
MIN_POOL = 3  # identifiable SKUs a category needs for its own prior; smaller categories use all SKUs
MAX_SE = 10.0  # an elasticity known to ± this (or worse) carries no information; diverged fits land here


@dataclass(frozen=True)
class RawFit:
    """One SKU's fit: coefficients and robust standard errors by regressor name."""

    coef: dict[str, float]
    se: dict[str, float]
    n_obs: int


def design(h: pd.DataFrame, fourier_order: int = 2) -> pd.DataFrame:
    """Regressors of one SKU's history, centred (columns that do not vary are dropped; ``log_price`` is kept).

    Optional controls when their columns are present: ``post_promo`` (post-promotion dip), ``event_*``
    (calendar events), and on daily histories day-of-week dummies."""
    t = (h["period_start"] - h["period_start"].min()).dt.days.to_numpy() / 365.25
    X = {"const": np.ones(len(h)), "log_price": np.log(h["avg_price"].to_numpy(float))}
    if "competitor_price" in h and h["competitor_price"].notna().all():
        X["log_competitor"] = np.log(h["competitor_price"].to_numpy(float))
    if "promo_share" in h:
        X["promo"] = h["promo_share"].fillna(0.0).to_numpy(float)
    for c in [c for c in h.columns if c == "post_promo" or c.startswith("event_")]:
        X[c] = h[c].fillna(0.0).to_numpy(float)
    if len(h) > 1 and h["period_start"].diff().dt.days.median() == 1:  # daily: weekday profile
        dow = h["period_start"].dt.dayofweek.to_numpy()
        for d in range(1, 7):
            X[f"dow{d}"] = (dow == d).astype(float)
    X["trend"] = t
    phase = 2 * np.pi * t
    for j in range(1, fourier_order + 1):
        X[f"sin{j}"], X[f"cos{j}"] = np.sin(j * phase), np.cos(j * phase)
    X = pd.DataFrame(X)
    keep = [c for c in X if c in ("const", "log_price") or X[c].std() > 1e-9]
    X = X[keep]
    return X - X.mean().where(X.columns != "const", 0.0)


def fit_poisson(X: np.ndarray, y: np.ndarray, iters: int = 50, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Poisson PML by IRLS; returns coefficients and the HC3 sandwich covariance.

    ``Cov = A⁻¹ B A⁻¹`` with ``A = Xᵀ diag(μ) X``, ``B = Xᵀ diag(((y − μ)/(1 − h))²) X`` and leverages
    ``h_i = μ_i·x_iᵀ A⁻¹ x_i`` (HC3: the plain sandwich understates small-sample variance).
    Raises ``np.linalg.LinAlgError`` when ``A`` is singular (collinear regressors).
    """
    beta = np.linalg.lstsq(X, np.log(y + 0.5), rcond=None)[0]
    for _ in range(iters):
        mu = np.exp(np.clip(X @ beta, -30, 30))
        step = np.linalg.solve(X.T @ (mu[:, None] * X), X.T @ (y - mu))
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    mu = np.exp(np.clip(X @ beta, -30, 30))
    A_inv = np.linalg.inv(X.T @ (mu[:, None] * X))
    lev = np.clip(mu * np.einsum("ij,jk,ik->i", X, A_inv, X), 0.0, 0.99)
    B = X.T @ ((((y - mu) / (1 - lev)) ** 2)[:, None] * X)
    return beta, A_inv @ B @ A_inv


def _prepare(history: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise ValueError(f"price history is missing column(s) {missing}; expected at least {list(HISTORY_COLUMNS)}")
    h = history.sort_values(["sku_id", "period_start"]).copy()
    h["period_start"] = pd.to_datetime(h["period_start"])
    bad = h["avg_price"].notna() & ~(h["avg_price"] > 0)
    if bad.any():
        r = h[bad].iloc[0]
        raise ValueError(f"price history: avg_price must be > 0, got {r['avg_price']!r} for sku {r['sku_id']} "
                         f"at {r['period_start']:%Y-%m-%d}")
    h["units"] = h["units"].clip(lower=0.0)
    # periods without sales have no average price: the price in effect is carried from neighbouring periods
    for col in [c for c in ("avg_price", "competitor_price") if c in h]:
        h[col] = h.groupby("sku_id")[col].transform(lambda s: s.ffill().bfill())
    return h[h["avg_price"].notna()]


def fit_sku(h: pd.DataFrame, min_obs: int, min_price_sd: float, fourier_order: int = 2) -> tuple[RawFit | None, str]:
    """Raw fit of one SKU, or ``None`` and the reason it is not identifiable."""
    n_sell = int((h["units"] > 0).sum())
    if n_sell < min_obs:
        return None, f"only {n_sell} periods with sales (< {min_obs})"
    sd = float(np.log(h["avg_price"]).std())
    if not sd >= min_price_sd:
        return None, f"no price variation (std of log price {sd:.4f} < {min_price_sd})"
    X = design(h, fourier_order)
    if X.shape[0] <= X.shape[1] + 2:
        return None, f"{X.shape[0]} periods for {X.shape[1]} coefficients"
    try:
        beta, cov = fit_poisson(X.to_numpy(), h["units"].to_numpy(float))
    except np.linalg.LinAlgError:
        return None, "collinear regressors (price moves only with promotions/season)"
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    if not (np.isfinite(beta).all() and np.isfinite(se).all()) or se[1] <= 0:
        return None, "fit did not converge"
    if se[1] > MAX_SE:
        return None, f"too little price information (standard error of the elasticity {se[1]:.3g} > {MAX_SE})"
    return RawFit(dict(zip(X.columns, beta)), dict(zip(X.columns, se)), len(h)), ""


def shrink(est: np.ndarray, se: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """Empirical-Bayes posterior per estimate (see the module docstring).

    Prior per group ``N(m_g, τ²)``: the between-SKU variance ``τ²`` is one Paule–Mandel estimate over all
    groups (deviations from each group's own mean; a per-group ``τ²`` from a handful of SKUs
    collapses to 0 and overstates certainty), ``m_g`` the random-effects mean of group ``g``. Groups with
    fewer than ``MIN_POOL`` finite estimates use the mean of all estimates. Returns ``post, post_se,
    prior_mean, prior_se, tau, weight_own`` (``1 − B``; ``prior_se = √Var(m_g)``) aligned with the inputs (NaN
    where the estimate is missing).
    """
    ok = np.isfinite(est) & np.isfinite(se) & (se > 0)
    groups = np.asarray(groups).astype(str)
    pooled = np.where(pd.Series(groups[ok]).value_counts().reindex(groups).fillna(0).to_numpy() >= MIN_POOL,
                      groups, "\0all")
    tau2 = _between_variance(est[ok], se[ok], pooled[ok])
    out = pd.DataFrame({"post": np.nan, "post_se": np.nan, "prior_mean": np.nan, "prior_se": np.nan,
                        "tau": np.sqrt(tau2),
                        "weight_own": np.nan}, index=np.arange(len(est)))
    for g in pd.unique(pooled):
        idx = np.flatnonzero(pooled == g)
        own = idx[ok[idx]] if g != "\0all" or ok[idx].sum() >= MIN_POOL else np.flatnonzero(ok)
        w = 1 / (se[own] ** 2 + tau2)
        m, var_m = float(np.sum(w * est[own]) / w.sum()), float(1 / w.sum())
        B = se[idx] ** 2 / (se[idx] ** 2 + tau2)
        out.loc[idx, "post"] = (1 - B) * est[idx] + B * m
        out.loc[idx, "post_se"] = np.sqrt((1 - B) * se[idx] ** 2 + B ** 2 * var_m)
        out.loc[idx, "prior_mean"], out.loc[idx, "prior_se"] = m, np.sqrt(var_m)
        out.loc[idx, "weight_own"] = 1 - B
    out.loc[~ok, ["post", "post_se", "weight_own"]] = np.nan
    return out


def _between_variance(b: np.ndarray, s: np.ndarray, groups: np.ndarray) -> float:
    """Paule–Mandel ``τ²`` with one mean per group: the root of the generalised ``Q``,
    ``Σ_i (b_i − m_g(τ²))² / (s_i² + τ²) = n − G`` (``m_g`` the random-effects mean of group ``g``), found by
    bisection; 0 when even ``τ² = 0`` gives ``Q ≤ n − G``. (DerSimonian–Laird's one-step moment estimate
    understated ``τ`` here when standard errors differ a lot between SKUs.)"""
    codes = np.unique(groups, return_inverse=True)[1]
    df = len(b) - codes.max() - 1 if len(b) else 0

    def q(tau2: float) -> float:
        w = 1 / (s ** 2 + tau2)
        m = np.bincount(codes, w * b) / np.bincount(codes, w)
        return float(np.sum(w * (b - m[codes]) ** 2))

    if df <= 0 or q(0.0) <= df:
        return 0.0
    lo, hi = 0.0, float(np.var(b)) + 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if q(mid) > df else (lo, mid)
    return (lo + hi) / 2


def estimate_response(history: pd.DataFrame, fourier_order: int = 2, min_obs: int = 20,
                      min_price_sd: float = 0.02, confidence: float = 0.90) -> pd.DataFrame:
    """Elasticities per SKU from a price history (the columns of ``derived.price_history``).

    Returns one row per SKU: ``sku_id, category, n_obs, price_sd, elasticity, se, lo, hi`` (the pooled
    estimate and its ``confidence`` interval), ``elasticity_raw, se_raw, weight_own, category_mean, category_se,
    cross_elasticity, cross_se, promo_lift, promo_se, identifiable, reason``. ``lo/hi`` are named
    ``lo90/hi90`` at the default level.
    """
    h = _prepare(history)
    rows = []
    for sku, g in h.groupby("sku_id", sort=True):
        fit, reason = fit_sku(g, min_obs, min_price_sd, fourier_order)
        row = {"sku_id": sku, "category": g["category"].iloc[0], "n_obs": len(g),
               "price_sd": float(np.log(g["avg_price"]).std()), "identifiable": fit is not None, "reason": reason}
        if fit is not None:
            row.update(elasticity_raw=fit.coef["log_price"], se_raw=fit.se["log_price"],
                       cross_elasticity=fit.coef.get("log_competitor", np.nan),
                       cross_se=fit.se.get("log_competitor", np.nan),
                       promo_lift=np.expm1(np.clip(fit.coef.get("promo", np.nan), -20, 20)),
                       promo_se=fit.se.get("promo", np.nan))
        rows.append(row)
    out = pd.DataFrame(rows)
    for c in ("elasticity_raw", "se_raw", "cross_elasticity", "cross_se", "promo_lift", "promo_se"):
        out[c] = out[c].astype(float) if c in out else np.nan
    post = shrink(out["elasticity_raw"].to_numpy(float), out["se_raw"].to_numpy(float),
                  out["category"].astype(str).to_numpy())
    z = stats.norm.ppf(0.5 + confidence / 2)
    tag = f"{round(confidence * 100):d}"
    out["elasticity"], out["se"] = post["post"].to_numpy(), post["post_se"].to_numpy()
    out[f"lo{tag}"], out[f"hi{tag}"] = out["elasticity"] - z * out["se"], out["elasticity"] + z * out["se"]
    out["weight_own"], out["category_mean"] = post["weight_own"].to_numpy(), post["prior_mean"].to_numpy()
    out["category_se"] = post["prior_se"].to_numpy()
    return out[["sku_id", "category", "n_obs", "price_sd", "elasticity", "se", f"lo{tag}", f"hi{tag}",
                "elasticity_raw", "se_raw", "weight_own", "category_mean", "category_se", "cross_elasticity",
                "cross_se", "promo_lift", "promo_se", "identifiable", "reason"]]
