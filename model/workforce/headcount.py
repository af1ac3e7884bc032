"""Annual headcount plan: core staff for the base load, flexible hours and temporary staff for peaks.

Index sets: weeks ``w ∈ W`` (52 of forecast), months ``m``, ``m(w)`` the month of week w. Program::

    min  52·C·H·c + Σ_w φ·c·F_w + Σ_w τ·c·H·T_{m(w)}
    s.t. (1−s)·H·(C + T_{m(w)}) + F_w ≥ R_w        ∀ w      (required productive hours)
         F_w ≤ β·H·C                              ∀ w      (flexible hours of core staff)
         C, T_m ∈ ℤ≥0,  F_w ≥ 0

``R_w`` required staff-hours in week w (h), ``H`` contract hours of one person per week (h), ``s``
shrinkage (leave, sickness), ``c`` hourly cost (currency/h), ``φ`` flex premium, ``τ`` temp premium,
``β`` flex share. Temporary staff are hired per month; with lead time L weeks a month's temps must be
requested ``L`` weeks before it starts (``hire_by``).
"""
from __future__ import annotations

import pandas as pd
import pyomo.environ as pyo

from scenarios.schema.workforce import WorkforceConfig
from solvers import SolveOptions, SolveResult, solve_or_explain


def _months(weeks: pd.Series) -> pd.Series:
    return pd.to_datetime(weeks).dt.to_period("M").astype(str)


def build_headcount_model(required: pd.DataFrame, cfg: WorkforceConfig, cost: float) -> pyo.ConcreteModel:
    """``required``: week_start, hours (required productive staff-hours per week)."""
    m = pyo.ConcreteModel(name="headcount")
    weeks = list(range(len(required)))
    month = list(_months(required["week_start"]))
    H, s = cfg.fte_hours_per_week, cfg.shrinkage
    m.W = pyo.Set(initialize=weeks)
    m.M = pyo.Set(initialize=sorted(set(month)))
    m.C = pyo.Var(domain=pyo.NonNegativeIntegers)
    m.T = pyo.Var(m.M, domain=pyo.NonNegativeIntegers)
    m.F = pyo.Var(m.W, bounds=(0, None))
    R = list(required["hours"].astype(float))
    m.cover = pyo.Constraint(m.W, rule=lambda m, w: (1 - s) * H * (m.C + m.T[month[w]]) + m.F[w] >= R[w])
    m.flex_limit = pyo.Constraint(m.W, rule=lambda m, w: m.F[w] <= cfg.flex_max_share * H * m.C)
    m.obj = pyo.Objective(expr=len(weeks) * m.C * H * cost
                          + sum(cfg.flex_premium * cost * m.F[w] for w in m.W)
                          + sum(cfg.temp_premium * cost * H * m.T[month[w]] for w in m.W))
    m._month = month
    return m


def plan_headcount(required: pd.DataFrame, cfg: WorkforceConfig, cost: float,
                   options: SolveOptions | None = None) -> tuple[pd.DataFrame, SolveResult]:
    """Solve the program; returns one row per month: month, core, flex_hours, temps, required_hours,
    hire_by (date temps must be requested), cost."""
    if required.empty or (required["hours"] < 0).any():
        raise ValueError("headcount plan: required hours must be a non-empty table of hours ≥ 0")
    m = build_headcount_model(required, cfg, cost)
    r = solve_or_explain(m, options or SolveOptions(time_limit_s=30, mip_rel_gap=1e-6))
    df = required.assign(month=m._month, flex=[pyo.value(m.F[w]) for w in m.W])
    H = cfg.fte_hours_per_week
    out = df.groupby("month", as_index=False).agg(flex_hours=("flex", "sum"), required_hours=("hours", "sum"),
                                                  n_weeks=("hours", "size"))
    core = int(round(pyo.value(m.C)))
    out["core"] = core
    out["temps"] = [int(round(pyo.value(m.T[mo]))) for mo in out["month"]]
    out["hire_by"] = (pd.PeriodIndex(out["month"], freq="M").to_timestamp()
                      - pd.Timedelta(weeks=cfg.hiring_lead_weeks)).date
    out["cost"] = cost * (out["n_weeks"] * H * (core + cfg.temp_premium * out["temps"])
                          + cfg.flex_premium * out["flex_hours"])
    return out[["month", "core", "flex_hours", "temps", "required_hours", "hire_by", "cost"]], r
