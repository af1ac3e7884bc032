"""The pricing instance: tidy inputs (SKUs, SKU-weeks) turned into the arrays every solver reads.

Index sets: SKUs ``s ∈ S``; price units ``u ∈ U`` (a price family, or a SKU without one — all SKUs of a
unit carry the same price); weeks ``t ∈ T = {0, …, H−1}``; ladder slots ``k ∈ K`` (unused slots are NaN).

Demand at ladder price ``L[u,k]`` (currency/unit) for SKU ``s`` of unit ``u`` in week ``t`` (units/week)::

    q[s,t,k] = base[s,t] · (L[u,k] / p0[s]) ** e[s]

with ``base`` the expected units at the current price ``p0`` (from the forecast) and ``e`` the own-price
elasticity of the response model (competitor prices are held at their expected values inside ``base``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats

from model.pricing.ladder import price_ladder
from model.pricing.trellis import chain_dp
from scenarios.schema.pricing import PricingConfig

SLACK_PRICE = 2.0  # a unit beyond stock or short of a markdown target costs twice the SKU's top ladder price
SKU_COLUMNS = ("sku_id", "unit_cost", "list_price", "current_price", "elasticity")
WEEK_COLUMNS = ("sku_id", "week_start", "base_units")


@dataclass
class PricingInstance:
    """Arrays of one pricing problem (shapes in brackets; see the module docstring for the index sets)."""

    sku_ids: np.ndarray          # [S] SKU ids
    unit_ids: np.ndarray         # [U] family ids (the SKU id for SKUs without a family)
    unit_of: np.ndarray          # [S] unit index of each SKU
    weeks: np.ndarray            # [T] week_start labels
    ladder: np.ndarray           # [U,K] prices, currency/unit, NaN = unused slot
    cost: np.ndarray             # [S] unit cost, currency/unit
    p0: np.ndarray               # [S] current price, currency/unit
    list_price: np.ndarray       # [S]
    elasticity: np.ndarray       # [S]
    base: np.ndarray             # [S,T] expected units at the current price
    units: np.ndarray            # [S,T,K] expected units at each ladder price
    competitor: np.ndarray       # [S,T] competitor price (NaN = none observed)
    ok_margin: np.ndarray        # [S,T,K] ladder price meets the margin floor
    ok_index: np.ndarray         # [S,T,K] ladder price inside the competitor-index band
    compat: np.ndarray           # [U,K,K] compat[u,j,k]: moving from slot j to k next week is allowed
    first_ok: np.ndarray         # [U,K] slot reachable from the current price in week 0
    stock: np.ndarray            # [S] units available over the horizon (stock + inbound); inf = unlimited
    clear_units: np.ndarray      # [S] units to sell before week ``clear_week`` (0 = no markdown target)
    clear_week: int              # weeks 0 … clear_week−1 count toward the markdown target
    penalty: np.ndarray          # [S] currency per unit of stock excess or clearance shortfall
    held: np.ndarray             # [S] price held at the current price (elasticity not identifiable)
    objective: str               # "margin" | "revenue"
    over_penalty: np.ndarray | None = None  # [S] currency per expected unit beyond stock (default: penalty)
    clear_q: np.ndarray | None = None       # [S,T,K] units counted toward the markdown target (default: units)
    flagged: np.ndarray | None = None       # [S] flagged slow mover: markdown or liquidation (default: target > 0)
    clear_max: np.ndarray | None = None     # [S] most units any allowed price path sells by the target (NaN: n/a)
    sold_down: np.ndarray | None = None     # [S] liquidation candidate sold down on the markdown ladder first
    clear_confidence: np.ndarray | None = None  # [S] about P(target met) under the elasticity's uncertainty
    value_cost: np.ndarray | None = None    # [S] cost per unit sold in the objective (default: cost; a sold-down
                                            #     liquidation candidate: what liquidating the unit would recover)

    def __post_init__(self) -> None:
        S = len(self.sku_ids)
        self.over_penalty = self.penalty if self.over_penalty is None else self.over_penalty
        self.clear_q = self.units if self.clear_q is None else self.clear_q
        self.flagged = self.clear_units > 0 if self.flagged is None else self.flagged
        self.clear_max = np.full(S, np.nan) if self.clear_max is None else self.clear_max
        self.value_cost = self.cost if self.value_cost is None else self.value_cost
        self.sold_down = np.zeros(S, bool) if self.sold_down is None else self.sold_down
        self.clear_confidence = np.full(S, np.nan) if self.clear_confidence is None else self.clear_confidence

    @property
    def markdown(self) -> np.ndarray:
        """[S] SKUs with a markdown target (flagged and clearable)."""
        return self.clear_units > 0

    @property
    def liquidate(self) -> np.ndarray:
        """[S] flagged SKUs whose stock no allowed price path clears by the target (liquidation candidates)."""
        return self.flagged & ~self.markdown

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.units.shape

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    def membership(self) -> sparse.csr_matrix:
        """[U,S] 0/1 matrix: row u has a 1 for every SKU of unit u."""
        s = len(self.sku_ids)
        return sparse.csr_matrix((np.ones(s), (self.unit_of, np.arange(s))), shape=(self.n_units, s))

    def sku_prices(self) -> np.ndarray:
        """[S,K] ladder of each SKU (its unit's ladder)."""
        return self.ladder[self.unit_of]

    def reward(self) -> np.ndarray:
        """[S,T,K] objective per ladder choice: ``(L − c)·q`` (margin) or ``L·q`` (revenue); NaN unused."""
        p = self.sku_prices()[:, None, :]
        per_unit = p - self.value_cost[:, None, None] if self.objective == "margin" else p
        return per_unit * self.units

    def bad_weeks(self) -> np.ndarray:
        """[U,T] weeks in which no ladder price of the unit meets every per-price rule for all members."""
        S, T, K = self.shape
        blocked = (self.membership() @ (~self.allowed()).reshape(S, -1)).reshape(-1, T, K) > 0
        return (blocked | ~np.isfinite(self.ladder)[:, None, :]).all(axis=2)

    def allowed(self) -> np.ndarray:
        """[S,T,K] ladder choices meeting every per-price rule (valid slot, margin floor, index band)."""
        valid = np.isfinite(self.sku_prices())[:, None, :]
        return valid & self.ok_margin & self.ok_index


def _check_frames(skus: pd.DataFrame, weeks: pd.DataFrame) -> None:
    problems = [f"skus: missing column {c!r}" for c in SKU_COLUMNS if c not in skus.columns]
    problems += [f"weeks: missing column {c!r}" for c in WEEK_COLUMNS if c not in weeks.columns]
    if not problems:
        for col in ("unit_cost", "list_price", "current_price", "elasticity"):
            bad = ~np.isfinite(pd.to_numeric(skus[col], errors="coerce").to_numpy(float))
            if col != "elasticity":
                bad |= ~(pd.to_numeric(skus[col], errors="coerce").fillna(-1).to_numpy(float) >= 0)
            for i in np.flatnonzero(bad)[:5]:
                problems.append(f"skus row {i} (sku {skus['sku_id'].iloc[i]}): {col} must be a finite number"
                                f"{' ≥ 0' if col != 'elasticity' else ''}, got {skus[col].iloc[i]!r}")
        bad_p = np.flatnonzero(pd.to_numeric(skus["current_price"], errors="coerce").to_numpy(float) <= 0)
        problems += [f"skus row {i}: current_price must be > 0" for i in bad_p[:5]]
        if skus["sku_id"].duplicated().any():
            problems.append(f"skus: duplicate sku_id {skus['sku_id'][skus['sku_id'].duplicated()].iloc[0]!r}")
        unknown = set(weeks["sku_id"]) - set(skus["sku_id"])
        if unknown:
            problems.append(f"weeks: sku_id not in skus: {sorted(unknown)[:5]}")
        neg = np.flatnonzero(~(weeks["base_units"].to_numpy(float) >= 0))
        problems += [f"weeks row {i}: base_units must be ≥ 0, got {weeks['base_units'].iloc[i]!r}" for i in neg[:5]]
    if problems:
        raise ValueError("pricing input is invalid:\n  " + "\n  ".join(problems))


def _units(skus: pd.DataFrame, markdown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Price units: a SKU's family, or the SKU itself when it has none or is marked down (a markdown SKU
    leaves its family for the horizon — the family's other SKUs keep their common regular price)."""
    fam = skus["family"] if "family" in skus.columns else pd.Series([None] * len(skus), index=skus.index)
    own = fam.isna() | (fam.astype(str) == "") | markdown
    key = fam.where(~own, skus["sku_id"]).astype(str).to_numpy()
    unit_ids, unit_of = np.unique(key, return_inverse=True)
    return unit_ids, unit_of


def _compat(ladder: np.ndarray, max_change: np.ndarray) -> np.ndarray:
    """compat[u,j,k] = |L[u,k] − L[u,j]| ≤ δ_u·L[u,j]: the week-to-week change rule between ladder slots."""
    a, b = ladder[:, :, None], ladder[:, None, :]
    with np.errstate(invalid="ignore"):
        return np.abs(b - a) <= max_change[:, None, None] * a * (1 + 1e-9)


def _ladders(list_price: np.ndarray, unit_of: np.ndarray, markdown: np.ndarray,
             cfg: PricingConfig) -> tuple[np.ndarray, np.ndarray]:
    """[U,K] ladder and [U] weekly change limit per unit, from its first SKU's list price. Markdown units
    (one SKU each) get the deeper markdown ladder and change limit."""
    first = np.unique(unit_of, return_index=True)[1]
    md = np.zeros(len(first), bool)
    np.logical_or.at(md, unit_of, markdown)
    args = (cfg.ladder_max, cfg.ladder_steps, list(cfg.price_endings))
    regular = price_ladder(list_price[first], cfg.ladder_min, *args)
    deep = price_ladder(list_price[first], min(cfg.markdown_ladder_min, cfg.ladder_min), *args)
    return (np.where(md[:, None], deep, regular),
            np.where(md, max(cfg.markdown_max_weekly_change, cfg.max_weekly_change), cfg.max_weekly_change))


def make_instance(skus: pd.DataFrame, weeks: pd.DataFrame, cfg: PricingConfig) -> PricingInstance:
    """Build the instance from tidy frames.

    ``skus``: ``sku_id, unit_cost, list_price, current_price, elasticity`` and optionally ``family``,
    ``stock`` (units available over the horizon, NaN = unlimited), ``clearance`` (bool: flagged slow mover),
    ``elasticity_se`` (standard error of the elasticity, for the markdown target's confidence),
    ``min_margin``, ``hold`` (bool: keep the current price). ``weeks``: one row per SKU × week with
    ``sku_id, week_start, base_units`` (units at the current price) and optionally ``competitor_price``.

    Flagged SKUs are split (:func:`max_cleared`): those for which some allowed markdown path sells
    ``clearance_share`` of the stock by the target week with probability at least ``markdown_min_probability``
    under the elasticity's uncertainty — i.e. at the elasticity ``e − z_p·se``, ``z_p = Φ⁻¹(1 − p_min)`` —
    get the markdown (their own price unit, the markdown ladder, floor and change limit, and the target
    row); the others are liquidation candidates (``liquidate``). ``clear_max`` is the most the markdown
    ladder sells at the point estimate. Liquidation candidates keep the regular rules, or, with
    ``liquidation_recovery`` set, are sold down under the markdown rules first (``sold_down``) with each unit
    sold valued at ``price − recovery·cost`` (the unit is not liquidated). A markdown's target counts the
    units at the elasticity ``e + z·se``, ``z`` the largest in ``[−z_p, Φ⁻¹(clearance_confidence)]`` at which
    the ladder still reaches the target (:func:`cautious_z`): as cautious as the ladder allows, and for a
    SKU the point estimate cannot clear, the deepest path it takes to clear with probability
    ``clear_confidence = Φ(z)`` (below one half: the plan says so rather than leaving the stock unsold).
    """
    _check_frames(skus, weeks)
    skus = skus.reset_index(drop=True)
    S = len(skus)
    flagged = _column(skus, "clearance", False).fillna(False).to_numpy(bool)
    stock = _column(skus, "stock", np.nan).to_numpy(float)
    flagged &= np.isfinite(stock)
    need = cfg.clearance_share * np.maximum(stock, 0.0) * (1 - 1e-9)
    se = _column(skus, "elasticity_se", 0.0).to_numpy(float)
    se = np.where(np.isfinite(se), np.maximum(se, 0.0), 0.0)
    clear_max, reach, z = np.full(S, np.nan), np.full(S, np.nan), np.zeros(S)
    z_reach = float(stats.norm.ppf(1 - cfg.markdown_min_probability))
    if flagged.any():
        cand = np.flatnonzero(flagged)
        trial = _build(skus.iloc[cand], weeks[weeks["sku_id"].isin(skus["sku_id"].iloc[cand])], cfg,
                       markdown=np.ones(cand.size, bool), flagged=np.ones(cand.size, bool))
        clear_max[cand] = max_cleared(trial)
        reach[cand] = max_cleared(trial, _shifted_units(trial, -z_reach * se[cand]))
        z[cand] = cautious_z(trial, se[cand], float(stats.norm.ppf(cfg.clearance_confidence)), need[cand],
                             z_min=-z_reach)
    markdown = flagged & (reach >= need)
    sell_down = flagged & ~markdown & (cfg.liquidation_recovery is not None)
    inst = _build(skus, weeks, cfg, markdown=markdown | sell_down, flagged=flagged, target=markdown,
                  clear_z=np.where(markdown, z, 0.0) * se)
    inst.clear_max = clear_max
    inst.clear_confidence = np.where(markdown, stats.norm.cdf(z), np.nan)
    if sell_down.any():
        inst.value_cost = np.where(sell_down, cfg.liquidation_recovery * inst.cost, inst.cost)
        inst.sold_down = sell_down
    return inst


def max_cleared(inst: PricingInstance, q: np.ndarray | None = None) -> np.ndarray:
    """[S] most expected units ``q`` (default: the point estimate ``units``) any allowed price path sells in
    weeks ``< clear_week``.

    The same trellis as the plan (:func:`model.pricing.trellis.chain_dp`) with reward ``q`` in the target
    window and 0 after it; the sum over its SKUs where a unit has several (use one-SKU units)."""
    S, T, K = inst.shape
    R = np.where(np.arange(T)[None, :, None] < inst.clear_week, inst.units if q is None else q, 0.0)
    allowed = (inst.membership() @ (~inst.allowed()).reshape(S, -1)).reshape(-1, T, K) == 0
    Ru = np.where(allowed, (inst.membership() @ R.reshape(S, -1)).reshape(-1, T, K), -np.inf)
    _, value = chain_dp(Ru, inst.compat, inst.first_ok)
    return value[inst.unit_of]


def cautious_z(trial: PricingInstance, se: np.ndarray, z_max: float, need: np.ndarray, steps: int = 12,
               z_min: float = 0.0) -> np.ndarray:
    """[S] per SKU the largest ``z ∈ [z_min, z_max]`` whose response at the elasticity ``e + z·se`` (``z > 0``:
    less responsive than estimated, cautious; ``z < 0``: more) still lets some allowed path sell ``need``
    units by the target (bisection; ``z_min`` where even that cannot). The target row then holds with
    probability about ``Φ(z)`` under the estimate's uncertainty — as high as the ladder allows, up to
    ``clearance_confidence``."""
    cleared = lambda z: max_cleared(trial, _shifted_units(trial, z * se)) >= need
    lo, hi = np.full(len(se), z_min), np.full(len(se), z_max)
    top = cleared(hi)
    for _ in range(steps if z_max > z_min and not top.all() else 0):
        mid = (lo + hi) / 2
        ok = cleared(mid)
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return np.where(top, z_max, lo)


def _shifted_units(inst: PricingInstance, shift: np.ndarray) -> np.ndarray:
    """[S,T,K] units at the elasticity ``e + shift`` (capped at 0): where ``shift > 0`` the fewer of these and
    ``units`` (a cautious response), where ``shift < 0`` the more (an optimistic one)."""
    shift = np.broadcast_to(np.asarray(shift, float), inst.elasticity.shape)
    if not shift.any():
        return inst.units
    e = np.minimum(inst.elasticity + shift, 0.0)
    moved = _response(inst.base, inst.sku_prices(), inst.p0, e)
    return np.where((shift > 0)[:, None, None], np.minimum(inst.units, moved), np.maximum(inst.units, moved))


def _column(skus: pd.DataFrame, name: str, default) -> pd.Series:
    return skus[name] if name in skus.columns else pd.Series(default, index=skus.index)


def _build(skus: pd.DataFrame, weeks: pd.DataFrame, cfg: PricingConfig, markdown: np.ndarray,
           flagged: np.ndarray, target: np.ndarray | None = None, clear_z: np.ndarray | None = None
           ) -> PricingInstance:
    """The instance with the SKUs under markdown rules (``markdown``) and those with a clearance target
    (``target``, default: the same) given (see :func:`make_instance`); the target counts units at the
    elasticity ``e + clear_z`` (default 0: the point estimate; see :func:`_shifted_units`)."""
    target = markdown if target is None else target
    skus = skus.reset_index(drop=True)
    unit_ids, unit_of = _units(skus, markdown)
    weeks_idx = np.sort(weeks["week_start"].unique())
    s_pos = pd.Series(np.arange(len(skus)), index=skus["sku_id"])
    si, ti = s_pos[weeks["sku_id"]].to_numpy(), np.searchsorted(weeks_idx, weeks["week_start"].to_numpy())
    S, T = len(skus), len(weeks_idx)
    base, comp = np.zeros((S, T)), np.full((S, T), np.nan)
    base[si, ti] = weeks["base_units"].to_numpy(float)
    if "competitor_price" in weeks.columns:
        comp[si, ti] = weeks["competitor_price"].to_numpy(float)
    col = lambda name, default: _column(skus, name, default)
    held = col("hold", False).fillna(False).to_numpy(bool)
    p0 = skus["current_price"].to_numpy(float)
    ladder, delta = _ladders(skus["list_price"].to_numpy(float), unit_of, markdown, cfg)
    ladder = _hold_ladders(ladder, unit_of, held, p0)
    floor = col("min_margin", np.nan).to_numpy(float)
    floor = np.where(np.isfinite(floor), floor, np.where(markdown, cfg.markdown_min_margin, cfg.min_margin))
    cost, e = skus["unit_cost"].to_numpy(float), skus["elasticity"].to_numpy(float)
    prices = ladder[unit_of]
    units = _response(base, prices, p0, e)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok_margin = prices[:, None, :] * (1 - floor[:, None, None]) >= cost[:, None, None] - 1e-9
        idx = prices[:, None, :] / comp[:, :, None]
        lowest = np.where(markdown, 0.0, cfg.competitor_index_min)[:, None, None]  # markdowns may undercut
        ok_index = ~np.isfinite(comp)[:, :, None] | ((idx >= lowest - 1e-9) & (idx <= cfg.competitor_index_max + 1e-9))
    ok_margin = np.broadcast_to(ok_margin, (S, T, ladder.shape[1])) | held[:, None, None]
    ok_index |= held[:, None, None]
    stock = col("stock", np.nan).to_numpy(float)
    limited = {"none": np.zeros(S, bool), "flagged": flagged, "all": np.ones(S, bool)}[cfg.stock_limited]
    stock = np.where(limited & np.isfinite(stock), np.maximum(stock, 0.0), np.inf)
    clear_units = np.where(target & np.isfinite(stock), cfg.clearance_share * stock, 0.0)
    compat = _compat(ladder, delta)
    first_ok = np.ones(ladder.shape, bool)
    for s in range(S):
        first_ok[unit_of[s]] &= np.abs(ladder[unit_of[s]] - p0[s]) <= delta[unit_of[s]] * p0[s] * (1 + 1e-9)
    if cfg.correct_out_of_band:
        first_ok = _allow_correction(first_ok, ok_margin & ok_index, unit_of)
    penalty = SLACK_PRICE * np.nanmax(prices, axis=1)
    inst = PricingInstance(
        sku_ids=skus["sku_id"].astype(str).to_numpy(), unit_ids=unit_ids, unit_of=unit_of, weeks=weeks_idx,
        ladder=ladder, cost=cost, p0=p0, list_price=skus["list_price"].to_numpy(float), elasticity=e,
        base=base, units=units, competitor=comp, ok_margin=ok_margin, ok_index=ok_index,
        compat=compat, first_ok=first_ok, stock=stock, clear_units=clear_units,
        clear_week=min(cfg.clearance_week, T), penalty=penalty, held=held, objective=cfg.objective,
        over_penalty=np.where(target, _lost_sale_value(prices, ok_margin[:, 0, :],
                                                       cost if cfg.objective == "margin" else 0.0 * cost), penalty),
        flagged=flagged)
    if clear_z is not None:
        inst.clear_q = _shifted_units(inst, clear_z)
    return inst


def _response(base: np.ndarray, prices: np.ndarray, p0: np.ndarray, e: np.ndarray) -> np.ndarray:
    """[S,T,K] ``base·(L/p0)^e`` (0 on unused slots)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        units = base[:, :, None] * (prices[:, None, :] / p0[:, None, None]) ** e[:, None, None]
    return np.nan_to_num(units, nan=0.0)


def _lost_sale_value(prices: np.ndarray, ok: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """[S] penalty per expected markdown unit beyond stock: the highest margin (revenue, with ``cost`` 0) an
    allowed price earns per unit (≥ 0). Planning a unit beyond stock then never pays by itself (it is a lost sale, not a cost), but
    costs less than missing the target, so the target's safety margin may plan demand beyond the stock."""
    high = np.max(np.where(ok & np.isfinite(prices), prices, -np.inf), axis=1)
    return np.maximum(high - cost, 0.0)


def _allow_correction(first_ok: np.ndarray, ok: np.ndarray, unit_of: np.ndarray) -> np.ndarray:
    """Units whose week-0 reachable prices all break the floor or band may jump to any allowed price."""
    U = first_ok.shape[0]
    ok_u = np.ones((U, ok.shape[2]), bool)
    np.logical_and.at(ok_u, unit_of, ok[:, 0, :])
    stuck = ~(first_ok & ok_u).any(axis=1)
    return np.where(stuck[:, None], True, first_ok)


def _hold_ladders(ladder: np.ndarray, unit_of: np.ndarray, held: np.ndarray, p0: np.ndarray) -> np.ndarray:
    """Units with a held SKU get a one-slot ladder: the current price (the others become NaN)."""
    out = ladder.copy()
    for s in np.flatnonzero(held):
        out[unit_of[s]] = np.nan
        out[unit_of[s], 0] = p0[s]
    return out


def subset(inst: PricingInstance, units: np.ndarray) -> PricingInstance:
    """The sub-instance of the given unit indices (their SKUs, all weeks)."""
    units = np.asarray(units)
    keep = np.isin(inst.unit_of, units)
    remap = np.full(inst.n_units, -1)
    remap[units] = np.arange(len(units))
    s = np.flatnonzero(keep)
    return PricingInstance(
        sku_ids=inst.sku_ids[s], unit_ids=inst.unit_ids[units], unit_of=remap[inst.unit_of[s]], weeks=inst.weeks,
        ladder=inst.ladder[units], cost=inst.cost[s], p0=inst.p0[s], list_price=inst.list_price[s],
        elasticity=inst.elasticity[s], base=inst.base[s], units=inst.units[s], competitor=inst.competitor[s],
        ok_margin=inst.ok_margin[s], ok_index=inst.ok_index[s], compat=inst.compat[units],
        first_ok=inst.first_ok[units], stock=inst.stock[s], clear_units=inst.clear_units[s],
        clear_week=inst.clear_week, penalty=inst.penalty[s], held=inst.held[s], objective=inst.objective,
        over_penalty=inst.over_penalty[s], clear_q=inst.clear_q[s], flagged=inst.flagged[s],
        clear_max=inst.clear_max[s], value_cost=inst.value_cost[s], sold_down=inst.sold_down[s],
        clear_confidence=inst.clear_confidence[s])


def infeasibility_reason(inst: PricingInstance, u: int) -> str:
    """Name the constraint families that leave unit ``u`` without any plan."""
    members = inst.unit_of == u
    valid = np.isfinite(inst.ladder[u])[None, None, :]
    per_week = lambda ok: (ok & valid).all(axis=0).any(axis=1).all()  # every week keeps some slot
    if not per_week(inst.ok_margin[members]):
        return "margin_floor"
    if not per_week(inst.ok_index[members]):
        return "competitor_index"
    if not per_week(inst.ok_margin[members] & inst.ok_index[members]):
        return "margin_floor+competitor_index"
    return "max_change+" + ("price_family" if members.sum() > 1 else "margin_floor/competitor_index")
