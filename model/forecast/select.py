"""Model choice per segment on backtest folds only: the best single model or an equal-weight ensemble.

Ensemble of members M: mean = (1/|M|)·Σ_m mean_m and q_α = (1/|M|)·Σ_m q_{α,m} (quantile averaging,
which keeps quantiles ordered). For each segment the candidates are every single model and the ensembles
of the best 2 and 3 models (ranked by the selection metric); the candidate with the lowest backtest
metric wins. The final holdout is never seen here.
"""
from __future__ import annotations

import pandas as pd

from model.forecast.contract import QCOLS
from model.forecast.metrics import score

KEYS = ["series_id", "period_start", "horizon"]


def combine(forecasts: pd.DataFrame, members: list[str], keys: list[str] = KEYS) -> pd.DataFrame:
    """Equal-weight average of the members' mean and quantiles; other columns kept from the first member."""
    part = forecasts[forecasts["model"].isin(members)]
    vals = ["mean", *QCOLS]
    avg = part.groupby(keys, sort=True)[vals].mean()
    n = part.groupby(keys, sort=True)["model"].nunique()
    if (n < len(members)).any():
        raise ValueError(f"ensemble {members}: some series lack a forecast from every member")
    extra = [c for c in part.columns if c not in vals and c not in keys and c != "model"]
    first = part.drop_duplicates(keys).set_index(keys)[extra]
    return avg.join(first).reset_index().assign(model=ensemble_name(members))


def ensemble_name(members: list[str]) -> str:
    return members[0] if len(members) == 1 else "ensemble(" + "+".join(members) + ")"


def choose(scored: pd.DataFrame, metric: str = "pinball", max_members: int = 3) -> dict[str, list[str]]:
    """Members chosen per segment (column ``segment``) from backtest rows of every model."""
    keys = ["series_id", "period_start", "fold"]
    chosen = {}
    for seg, g in scored.groupby("segment", sort=True):
        common = g.groupby(keys)["model"].transform("nunique") == g["model"].nunique()
        g = g[common]
        ranked = sorted(g["model"].unique(), key=lambda m: score(g[g["model"] == m])[metric])
        candidates = [[m] for m in ranked] + [ranked[:k] for k in range(2, min(max_members, len(ranked)) + 1)]
        chosen[seg] = min(candidates, key=lambda ms: score(combine(g, ms, keys + ["horizon"]))[metric])
    return chosen
