"""Model choice per segment on backtest folds only: the best single model or a weighted ensemble.

Ensemble with weights w_m (Σ w_m = 1): mean = Σ_m w_m·mean_m and q_α = Σ_m w_m·q_{α,m} (quantile
averaging, which keeps quantiles ordered). For each segment the candidates are every single model, the
equal-weight ensembles of the best 2 and 3 models (ranked by the selection metric) and the best pair
weighted ¼–¾ either way; the candidate with the lowest backtest metric wins. The final holdout is never
seen here.
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from model.forecast.contract import QCOLS
from model.forecast.metrics import score

KEYS = ["series_id", "period_start", "horizon"]
PAIR_WEIGHTS = (0.25, 0.75)


def _weights(members: list[str] | dict[str, float]) -> dict[str, float]:
    if isinstance(members, dict):
        return members
    return {m: 1.0 / len(members) for m in members}


def combine(forecasts: pd.DataFrame, members: list[str] | dict[str, float], keys: list[str] = KEYS) -> pd.DataFrame:
    """Weighted average of the members' mean and quantiles (a list means equal weights); other columns
    are kept from the first member."""
    w = _weights(members)
    part = forecasts[forecasts["model"].isin(list(w))]
    vals = ["mean", *QCOLS]
    n = part.groupby(keys, sort=True)["model"].nunique()
    if (n < len(w)).any():
        raise ValueError(f"ensemble {list(w)}: some series lack a forecast from every member")
    weighted = part[vals].mul(part["model"].map(w), axis=0)
    avg = weighted.groupby([part[k] for k in keys], sort=True).sum()
    extra = [c for c in part.columns if c not in vals and c not in keys and c != "model"]
    first = part.drop_duplicates(keys).set_index(keys)[extra]
    return avg.join(first).reset_index().assign(model=ensemble_name(w))


def ensemble_name(members: list[str] | dict[str, float]) -> str:
    w = _weights(members)
    if len(w) == 1:
        return next(iter(w))
    if len(set(w.values())) == 1:
        return "ensemble(" + "+".join(w) + ")"
    return "ensemble(" + "+".join(f"{v:g}*{m}" for m, v in w.items()) + ")"


def candidates(ranked: list[str], max_members: int = 3) -> list[dict[str, float]]:
    out = [{m: 1.0} for m in ranked]
    out += [_weights(ranked[:k]) for k in range(2, min(max_members, len(ranked)) + 1)]
    if len(ranked) >= 2:
        a, b = ranked[:2]
        out += [{a: wa, b: 1.0 - wa} for wa in PAIR_WEIGHTS]
    return out


def choose(scored: pd.DataFrame, metric: str = "pinball", max_members: int = 3,
           calibrate: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> dict[str, dict[str, float]]:
    """Weights chosen per segment (column ``segment``) from backtest rows of every model; with
    ``calibrate`` each candidate (and each single model in the ranking) is scored after it."""
    keys = ["series_id", "period_start", "fold"]
    fix = calibrate or (lambda frame: frame)
    chosen = {}
    for seg, g in scored.groupby("segment", sort=True):
        common = g.groupby(keys)["model"].transform("nunique") == g["model"].nunique()
        g = g[common]
        ranked = sorted(g["model"].unique(), key=lambda m: score(fix(g[g["model"] == m]))[metric])
        chosen[seg] = min(candidates(ranked, max_members),
                          key=lambda w: score(fix(combine(g, w, keys + ["horizon"])))[metric])
    return chosen
