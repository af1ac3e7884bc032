"""The workforce plan on the SSOT: forecast → workload → roster, coverage, saving, annual headcount.

Volumes for one site ``L`` (the scenario's ``location_id`` or the site with most staff):

* the site serves its own sales, plus the web shop and marketplaces when it is a warehouse;
* ``units_w = share · Σ_series mean_w`` with ``share`` = the site's share of units sold in the last 52
  weeks of history; ``lines_w = units_w · lines/unit`` and ``orders_w = lines_w · orders/line`` use the
  same history's ratios; ``transactions_w`` = mean weekly traffic transactions × units_w / mean weekly
  units (traffic follows volume).
* hour-of-week profiles: order timestamps (``orders``), receipt dates over open hours (``receipts``),
  hourly traffic if recorded, else daily traffic over open hours (``traffic``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.workforce.decompose import solve_roster_decomposed
from model.workforce.headcount import plan_headcount
from model.workforce.hourly import employees_from_staff, hourly_roster_data
from model.workforce.roster import solve_roster
from model.workforce.rule_roster import rule_roster_cost
from model.workforce.validate import validate_roster
from model.workforce.workload import combine_profiles, day_of_week_profile, hour_of_week_profile, staff_requirements
from scenarios.schema import WorkforceConfig
from solvers import SolveOptions

MONOLITHIC_MAX_EMPLOYEES = 6   # above this decompose.py is used (it beat the whole program at 10 and 17)


@dataclass
class WorkforceOutcome:
    tables: dict
    summary: dict
    solves: list


@dataclass
class SiteHistory:
    site: str
    locations: list[str]
    share: float                 # site's share of all units sold
    lines_per_unit: float
    orders_per_line: float
    weekly_units: float          # mean over the window
    weekly_transactions: float
    profiles: dict               # profile kind → π (7 × 24)


def pick_site(con, cfg: WorkforceConfig) -> tuple[str, str]:
    """(location_id, type) of the site to plan; errors name the missing location."""
    staff = con.execute("SELECT location_id, count(*) n FROM staff GROUP BY 1 ORDER BY n DESC, 1").df()
    if staff.empty:
        raise ValueError("the SSOT staff table is empty: ingest staff before planning the workforce")
    site = cfg.location_id or str(staff["location_id"].iloc[0])
    row = con.execute("SELECT type FROM location WHERE location_id = ?", [site]).fetchone()
    if row is None or site not in set(staff["location_id"]):
        raise ValueError(f"workforce.location_id {site!r}: no such location with staff "
                         f"(sites with staff: {sorted(staff['location_id'])})")
    return site, row[0]


def _open_shape(cfg: WorkforceConfig) -> np.ndarray:
    return np.array([cfg.open_hours[0] <= h < cfg.open_hours[1] for h in range(24)], dtype=float)


def site_history(con, cfg: WorkforceConfig) -> SiteHistory:
    """Ratios, share and profiles from the last 52 weeks of the site's history."""
    site, kind = pick_site(con, cfg)
    served = [site]
    if kind == "warehouse":
        served += [r[0] for r in con.execute(
            "SELECT location_id FROM location WHERE type IN ('web', 'marketplace')").fetchall()]
    q = ("SELECT order_id, ts, units, location_id FROM sales WHERE units > 0 "
         "AND ts >= (SELECT max(ts) FROM sales) - INTERVAL 364 DAY")
    sales = con.execute(q).df()
    mine = sales[sales["location_id"].isin(served)]
    if mine.empty:
        raise ValueError(f"no sales in the last 52 weeks for site {site} (served locations {served})")
    weeks = max((sales["ts"].max() - sales["ts"].min()).days / 7, 1.0)
    receipts = con.execute("SELECT r.received_date, r.qty_received FROM receipts r JOIN purchase_orders p "
                           "USING (po_id, sku_id) WHERE p.location_id = ?", [site]).df()
    traffic = con.execute("SELECT ts, grain, transactions FROM traffic WHERE location_id = ? "
                          "AND transactions IS NOT NULL", [site]).df()
    orders_pi = hour_of_week_profile(mine["ts"])
    receipts_pi = (combine_profiles(day_of_week_profile(receipts["received_date"], receipts["qty_received"]),
                                    _open_shape(cfg))
                   if len(receipts) else orders_pi)
    if (traffic["grain"] == "hour").any():
        hourly = traffic[traffic["grain"] == "hour"]
        traffic_pi = hour_of_week_profile(hourly["ts"], hourly["transactions"])
    elif len(traffic):
        traffic_pi = combine_profiles(day_of_week_profile(traffic["ts"], traffic["transactions"]), _open_shape(cfg))
    else:
        traffic_pi = orders_pi
    return SiteHistory(
        site, served, float(mine["units"].sum() / sales["units"].sum()),
        float(len(mine) / mine["units"].sum()), float(mine["order_id"].nunique() / len(mine)),
        float(mine["units"].sum() / weeks),
        float(traffic["transactions"].sum() / weeks) if len(traffic) else float(mine["order_id"].nunique() / weeks),
        {"orders": orders_pi, "receipts": receipts_pi, "traffic": traffic_pi})


def weekly_volumes(forecast: pd.DataFrame, hist: SiteHistory) -> pd.DataFrame:
    """week_start, units, lines, orders, transactions for the site from the forecast's mean."""
    if forecast.empty or not {"period_start", "mean"} <= set(forecast.columns):
        raise ValueError("forecast needs rows with period_start and mean (docs/CONTRACTS.md)")
    units = forecast.groupby("period_start")["mean"].sum() * hist.share
    df = pd.DataFrame({"week_start": pd.to_datetime(units.index), "units": units.to_numpy()})
    df["lines"] = df["units"] * hist.lines_per_unit
    df["orders"] = df["lines"] * hist.orders_per_line
    df["transactions"] = hist.weekly_transactions * df["units"] / max(hist.weekly_units, 1e-9)
    return df.reset_index(drop=True)


def week_requirements(vol: pd.Series, hist: SiteHistory, cfg: WorkforceConfig, roles) -> pd.DataFrame:
    """Required staff per role × day × hour for one week's volumes."""
    sel = {r: c for r, c in cfg.roles.items() if r in roles}
    profiles = {r: hist.profiles[c.profile] for r, c in sel.items()}
    return staff_requirements(vol.to_dict(), profiles, sel, cfg.open_hours)


def _roster_week(volumes: pd.DataFrame, cfg: WorkforceConfig) -> int:
    if cfg.roster_week == "peak":
        return int(volumes["units"].to_numpy()[: len(volumes) - cfg.roster_weeks + 1].argmax())
    if cfg.roster_week == "first":
        return 0
    if not 0 <= cfg.roster_week <= len(volumes) - cfg.roster_weeks:
        raise ValueError(f"workforce.roster_week = {cfg.roster_week}: the forecast has {len(volumes)} weeks")
    return int(cfg.roster_week)


def _solve(data, cfg: WorkforceConfig) -> dict:
    """The whole program for small sites, the decomposed solve (with a certified bound) above."""
    opts = SolveOptions(time_limit_s=cfg.time_limit_s, mip_rel_gap=cfg.mip_gap)
    if len(data.employees) <= MONOLITHIC_MAX_EMPLOYEES:
        r = solve_roster(data, opts)
        return {"roster": r.roster, "coverage": r.coverage, "objective": r.objective, "lower_bound": r.solve.bound,
                "gap": r.solve.gap, "labour_cost": r.labour_cost, "method": "monolithic", "solves": [r.solve]}
    d = solve_roster_decomposed(data, opts)
    return {"roster": d.roster, "coverage": d.coverage, "objective": d.objective, "lower_bound": d.lower_bound,
            "gap": d.gap, "labour_cost": d.labour_cost, "method": "decomposed", "solves": d.solves}


def _tables(sol: dict, week0: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    roster = sol["roster"].assign(date=lambda r: (week0 + pd.to_timedelta(r["day"], unit="D")).dt.date)
    roster = roster[["employee_id", "day", "date", "start_hour", "end_hour", "role", "template", "paid_hours", "cost"]]
    cov = sol["coverage"]
    coverage = pd.DataFrame({"role": cov["role"], "day": cov["key"] // 24, "hour": cov["key"] % 24,
                             "required": cov["required"], "scheduled": cov["scheduled"],
                             "shortfall": cov["shortfall"]})
    return roster.reset_index(drop=True), coverage


def _covered(req: pd.DataFrame, coverage: pd.DataFrame) -> pd.DataFrame:
    """Requirement the optimized roster actually met, min(required, scheduled) per role × day × hour: the
    rule roster is built for this, so both rosters are compared at equal coverage."""
    met = coverage.assign(required=np.minimum(coverage["required"], coverage["scheduled"]))
    return met[["role", "day", "hour", "required"]]


def _headcount(volumes, hist, cfg, roles, staff) -> tuple[pd.DataFrame, dict]:
    hours = [week_requirements(v, hist, cfg, roles)["required"].sum()
             for _, v in volumes[["units", "lines", "orders", "transactions"]].iterrows()]
    cost = cfg.core_cost_per_hour or float(staff["hourly_cost"].mean())
    plan, r = plan_headcount(pd.DataFrame({"week_start": volumes["week_start"], "hours": hours}), cfg, cost)
    return plan, r.as_dict()


def workforce_plan(con, cfg: WorkforceConfig, forecast: pd.DataFrame, progress=lambda msg: None) -> WorkforceOutcome:
    """Roster for the selected forecast week(s), its coverage, the rule-roster saving and the annual
    headcount plan for the site; every emitted roster is checked by the independent validator."""
    hist = site_history(con, cfg)
    staff = con.execute("SELECT * FROM staff WHERE location_id = ?", [hist.site]).df()
    skills = {s for v in staff["skills"].dropna() for s in str(v).split("|")}
    roles = [r for r in cfg.roles if r in skills]
    if not roles:
        raise ValueError(f"no staff at {hist.site} has a skill among workforce.roles {list(cfg.roles)}")
    volumes = weekly_volumes(forecast, hist)
    w0 = _roster_week(volumes, cfg)
    weeks = [week_requirements(volumes.iloc[w0 + k][["units", "lines", "orders", "transactions"]], hist, cfg, roles)
             .assign(day=lambda df, k=k: df["day"] + 7 * k) for k in range(cfg.roster_weeks)]
    req = pd.concat(weeks, ignore_index=True)
    req = req[req["role"].isin(roles)]
    emps = employees_from_staff(staff, cfg, roles)
    progress(f"workforce: rostering {len(emps)} employees at {hist.site}, {len(roles)} roles")
    data = hourly_roster_data(req[["role", "day", "hour", "required"]], emps, cfg, 7 * cfg.roster_weeks)
    sol = _solve(data, cfg)
    violations = validate_roster(sol["roster"], data, cfg.rest_hours)
    roster, coverage = _tables(sol, volumes["week_start"].iloc[w0])
    rule = rule_roster_cost(_covered(req, coverage), emps, cfg.break_minutes)
    headcount, hc_solve = _headcount(volumes, hist, cfg, roles, staff)
    summary = {
        "site": hist.site, "employees": len(emps), "roles": roles,
        "roster_week": str(volumes["week_start"].iloc[w0].date()), "hiring_lead_weeks": cfg.hiring_lead_weeks,
        "roster_weeks": cfg.roster_weeks, "method": sol["method"], "objective": sol["objective"],
        "lower_bound": sol["lower_bound"], "gap": sol["gap"], "labour_cost": sol["labour_cost"],
        "required_hours": float(req["required"].sum()), "scheduled_hours": float(roster["paid_hours"].sum()),
        "shortfall_hours": float(coverage["shortfall"].sum()), "violations": len(violations),
        "rule_cost": rule.cost,
        "saving_vs_rule": 1 - sol["labour_cost"] / rule.cost if rule.cost else None,
        "core_staff": int(headcount["core"].max()), "peak_temps": int(headcount["temps"].max()),
        "flex_hours_year": float(headcount["flex_hours"].sum()), "headcount_cost": float(headcount["cost"].sum()),
        "lines_per_unit": hist.lines_per_unit, "orders_per_line": hist.orders_per_line, "site_share": hist.share,
    }
    tables = {"plan_roster": roster, "plan_coverage": coverage, "plan_headcount": headcount,
              "workforce_requirements": req.reset_index(drop=True)}
    solves = [s.as_dict() for s in sol["solves"]] + [hc_solve]
    return WorkforceOutcome(tables, summary, solves)
