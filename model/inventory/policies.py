"""Single-item inventory policies: a documented public API checked against textbook values.

Notation and equation numbers follow L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain
Theory*, 2nd ed., Wiley 2019 ("S&S"): ``fixed_cost`` K (currency per order), ``holding_cost`` h (currency
per unit per time unit), ``stockout_cost`` p (currency per unit short per time unit, backorders),
``demand_rate`` λ (units per time unit), ``mean``/``sd`` μ/σ of demand per period (units), ``lead_time``
L (time units for continuous review, whole periods for periodic review).

Every function validates its input and raises :class:`ValueError` naming the argument; every result is a
small frozen dataclass.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

# ----------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class EOQResult:
    quantity: float
    cost: float


@dataclass(frozen=True)
class EOQBackordersResult:
    quantity: float
    stockout_fraction: float
    cost: float


@dataclass(frozen=True)
class NewsvendorResult:
    quantity: float
    cost: float


@dataclass(frozen=True)
class BaseStockResult:
    level: float
    cost: float


@dataclass(frozen=True)
class RQResult:
    reorder_point: float
    quantity: float
    cost: float


@dataclass(frozen=True)
class SSResult:
    s: int
    S: int
    cost: float


@dataclass(frozen=True)
class WagnerWhitinResult:
    quantities: tuple[float, ...]
    cost: float


# ----------------------------------------------------------------------------------------- checks


def _nonneg(**kw: float) -> None:
    for name, v in kw.items():
        if not (isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")


def _positive(**kw: float) -> None:
    for name, v in kw.items():
        if not (isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")


def _pmf(values: Sequence[float], probs: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Validate a discrete distribution: non-empty, same length, probabilities ≥ 0 summing to 1."""
    v = np.asarray(values, dtype=float)
    p = np.asarray(probs, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ValueError("values must be a non-empty 1-D sequence of demand values")
    if p.shape != v.shape:
        raise ValueError(f"probs must have the same length as values ({v.size}), got {p.size}")
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError("values must be finite demands >= 0")
    if np.any(p < 0) or not math.isclose(p.sum(), 1.0, abs_tol=1e-6):
        raise ValueError(f"probs must be >= 0 and sum to 1, got sum {p.sum():.6g}")
    order = np.argsort(v)
    return v[order], p[order] / p.sum()


# ----------------------------------------------------------------------------------------- EOQ family


def eoq(*, fixed_cost: float, holding_cost: float, demand_rate: float) -> EOQResult:
    """Economic order quantity (S&S §3.2, eqs. 3.4–3.5).

    ``Q* = sqrt(2 K λ / h)`` and the optimal cost per time unit ``g(Q*) = sqrt(2 K λ h)``.
    """
    _nonneg(fixed_cost=fixed_cost)
    _positive(holding_cost=holding_cost, demand_rate=demand_rate)
    q = math.sqrt(2 * fixed_cost * demand_rate / holding_cost)
    return EOQResult(quantity=q, cost=math.sqrt(2 * fixed_cost * demand_rate * holding_cost))


def eoq_backorders(*, fixed_cost: float, holding_cost: float, stockout_cost: float,
                   demand_rate: float) -> EOQBackordersResult:
    """EOQ with planned backorders (S&S §3.3, eqs. 3.12–3.14).

    ``Q* = sqrt(2 K λ (h + p) / (h p))``, stock-out fraction ``x* = h / (h + p)``,
    cost ``g* = sqrt(2 K λ h p / (h + p))``.
    """
    _nonneg(fixed_cost=fixed_cost)
    _positive(holding_cost=holding_cost, stockout_cost=stockout_cost, demand_rate=demand_rate)
    h, p = holding_cost, stockout_cost
    q = math.sqrt(2 * fixed_cost * demand_rate * (h + p) / (h * p))
    return EOQBackordersResult(quantity=q, stockout_fraction=h / (h + p),
                               cost=math.sqrt(2 * fixed_cost * demand_rate * h * p / (h + p)))


# ----------------------------------------------------------------------------------------- newsvendor


def newsvendor(*, holding_cost: float, stockout_cost: float, mean: float, sd: float) -> NewsvendorResult:
    """Newsvendor with normal demand N(μ, σ²) (S&S §4.3, eqs. 4.24 and 4.35).

    ``S* = μ + σ Φ⁻¹(p / (h + p))`` and expected cost ``g(S*) = (h + p) σ φ(Φ⁻¹(p / (h + p)))``.
    """
    _nonneg(holding_cost=holding_cost, stockout_cost=stockout_cost, sd=sd)
    _positive(mean=mean)
    if holding_cost + stockout_cost <= 0:
        raise ValueError("holding_cost + stockout_cost must be > 0")
    z = stats.norm.ppf(stockout_cost / (holding_cost + stockout_cost)) if sd > 0 else 0.0
    if not math.isfinite(z):  # h = 0 or p = 0: the critical ratio is 0 or 1
        raise ValueError("holding_cost and stockout_cost must both be > 0 for normal demand")
    cost = (holding_cost + stockout_cost) * sd * stats.norm.pdf(z)
    return NewsvendorResult(quantity=float(mean + sd * z), cost=float(cost))


def _expected_cost_discrete(level: np.ndarray, v: np.ndarray, p: np.ndarray, h: float, b: float) -> np.ndarray:
    """``E[h (S - D)⁺ + b (D - S)⁺]`` for each S in ``level`` (D discrete with values v, probs p)."""
    diff = level[:, None] - v[None, :]
    return (h * np.clip(diff, 0, None) + b * np.clip(-diff, 0, None)) @ p


def newsvendor_discrete(*, holding_cost: float, stockout_cost: float, values: Sequence[float],
                        probs: Sequence[float]) -> NewsvendorResult:
    """Newsvendor with discrete demand (S&S §4.3.3, eq. 4.33).

    ``S*`` is the smallest demand value with ``F(S) ≥ p / (h + p)``; cost ``E[h (S-D)⁺ + p (D-S)⁺]``.
    """
    _positive(holding_cost=holding_cost, stockout_cost=stockout_cost)
    v, p = _pmf(values, probs)
    ratio = stockout_cost / (holding_cost + stockout_cost)
    s = v[int(np.searchsorted(np.cumsum(p), ratio - 1e-12))]
    cost = _expected_cost_discrete(np.array([s]), v, p, holding_cost, stockout_cost)[0]
    return NewsvendorResult(quantity=float(s), cost=float(cost))


def base_stock(*, holding_cost: float, stockout_cost: float, mean: float, sd: float,
               lead_time: int) -> BaseStockResult:
    """Periodic-review base-stock level with backorders (S&S §4.4, eq. 4.44–4.45).

    Demand per period is N(μ, σ²) i.i.d.; with integer lead time L the order placed now protects
    L + 1 periods, so ``S* = (L+1) μ + σ sqrt(L+1) Φ⁻¹(p / (h + p))`` and the cost per period is the
    newsvendor cost with mean ``(L+1) μ`` and standard deviation ``σ sqrt(L+1)``.
    """
    if not isinstance(lead_time, (int, np.integer)) or lead_time < 0:
        raise ValueError(f"lead_time must be a whole number of periods >= 0, got {lead_time!r}")
    _nonneg(sd=sd)
    _positive(mean=mean)
    r = newsvendor(holding_cost=holding_cost, stockout_cost=stockout_cost, mean=(lead_time + 1) * mean,
                   sd=sd * math.sqrt(lead_time + 1))
    return BaseStockResult(level=r.quantity, cost=r.cost)


# ----------------------------------------------------------------------------------------- (r, Q)


def _second_order_loss(z: np.ndarray | float) -> np.ndarray | float:
    """Standard normal second-order loss ``L²(z) = ½[(z² + 1)(1 - Φ(z)) - z φ(z)]`` (S&S eq. C.23)."""
    return 0.5 * ((z * z + 1) * stats.norm.sf(z) - z * stats.norm.pdf(z))


def _rq_cost(r: float, q: float, k: float, h: float, p: float, lam: float, mu: float, sig: float) -> float:
    """Exact (r, Q) cost with normal lead-time demand (S&S eq. 5.7):

    ``g(r, Q) = [K λ + ∫_r^{r+Q} g(y) dy] / Q`` with ``g(y) = h (y - μ) + (h + p) n(y)`` and the loss
    ``n(y) = σ L((y - μ)/σ)``, so ``∫ g = h[(r+Q-μ)² - (r-μ)²]/2 + (h+p) σ² [L²(z_r) - L²(z_{r+Q})]``.
    """
    integral = 0.5 * h * ((r + q - mu) ** 2 - (r - mu) ** 2) + (h + p) * sig ** 2 * (
        _second_order_loss((r - mu) / sig) - _second_order_loss((r + q - mu) / sig))
    return (k * lam + integral) / q


def _rq_best_r(q: float, h: float, p: float, mu: float, sig: float) -> float:
    """The r minimising g(r, Q) for fixed Q: the root of ``g(r) = g(r + Q)`` (S&S eq. 5.10)."""
    def gy(y: float) -> float:
        return h * (y - mu) + (h + p) * sig * _loss((y - mu) / sig)

    lo, hi = mu - 10 * sig - q, mu + 10 * sig
    return optimize.brentq(lambda r: gy(r) - gy(r + q), lo, hi, xtol=1e-10)


def _loss(z: float) -> float:
    """Standard normal first-order loss ``L(z) = φ(z) - z (1 - Φ(z))``."""
    return stats.norm.pdf(z) - z * stats.norm.sf(z)


def r_q(*, fixed_cost: float, holding_cost: float, stockout_cost: float, demand_rate: float,
        demand_sd: float, lead_time: float) -> RQResult:
    """Optimal continuous-review (r, Q) policy with backorders and normal lead-time demand (S&S §5.2).

    Lead-time demand is N(λL, σ² L) with ``demand_sd`` σ per unit of time. Minimises the exact cost
    ``g(r, Q)`` of S&S eq. 5.7 (see :func:`_rq_cost`): for each Q the best r solves ``g(r) = g(r+Q)``;
    the outer one-dimensional search over Q is convex (S&S Theorem 5.1), solved to 1e-9 relative.
    """
    _nonneg(fixed_cost=fixed_cost, lead_time=lead_time)
    _positive(holding_cost=holding_cost, stockout_cost=stockout_cost, demand_rate=demand_rate,
              demand_sd=demand_sd)
    h, p, lam = holding_cost, stockout_cost, demand_rate
    mu, sig = lam * lead_time, demand_sd * math.sqrt(lead_time)
    if sig <= 0:
        raise ValueError("lead_time must be > 0 for a stochastic (r, Q) problem; use eoq_backorders")
    q0 = eoq_backorders(fixed_cost=max(fixed_cost, 1e-12), holding_cost=h, stockout_cost=p,
                        demand_rate=lam).quantity

    def cost_of_q(q: float) -> float:
        return _rq_cost(_rq_best_r(q, h, p, mu, sig), q, fixed_cost, h, p, lam, mu, sig)

    res = optimize.minimize_scalar(cost_of_q, bounds=(1e-9 * q0 + 1e-12, 4 * q0 + 10 * sig),
                                   method="bounded", options={"xatol": 1e-9 * (q0 + sig)})
    q = float(res.x)
    r = _rq_best_r(q, h, p, mu, sig)
    return RQResult(reorder_point=float(r), quantity=q, cost=float(_rq_cost(r, q, fixed_cost, h, p, lam, mu, sig)))


# ----------------------------------------------------------------------------------------- (s, S)


class _SSCosts:
    """Renewal-reward pieces of the periodic-review (s, S) policy with zero lead time (S&S §4.5.2).

    ``G(y) = E[h (y - D)⁺ + p (D - y)⁺]``; the renewal masses ``m(0) = 1/(1-p₀)``,
    ``m(j) = Σ_{l=1..j} p_l m(j-l) / (1-p₀)``; ``M(n) = Σ_{j<n} m(j)``; and the cost per period
    ``c(s, S) = [K + Σ_{j=0}^{S-s-1} m(j) G(S-j)] / M(S-s)`` (S&S eq. 4.64; order when IP ≤ s).
    """

    def __init__(self, k: float, h: float, p: float, v: np.ndarray, pr: np.ndarray):
        self.k, self.h, self.p, self.v, self.pr = k, h, p, v, pr
        n = int(v.max()) + 1
        self.pmf = np.zeros(n)
        np.add.at(self.pmf, v.astype(int), pr)
        self.m = np.array([1.0 / (1.0 - self.pmf[0])])

    def G(self, y: int) -> float:
        return float(_expected_cost_discrete(np.array([float(y)]), self.v, self.pr, self.h, self.p)[0])

    def _grow(self, n: int) -> None:
        m = list(self.m)
        for j in range(len(m), n):
            l_max = min(j, len(self.pmf) - 1)
            m.append(sum(self.pmf[l] * m[j - l] for l in range(1, l_max + 1)) / (1.0 - self.pmf[0]))
        self.m = np.array(m)

    def c(self, s: int, S: int) -> float:
        n = S - s
        if len(self.m) < n:
            self._grow(n)
        g = np.array([self.G(S - j) for j in range(n)])
        return float((self.k + self.m[:n] @ g) / self.m[:n].sum())


def s_S(*, fixed_cost: float, holding_cost: float, stockout_cost: float, values: Sequence[float],
        probs: Sequence[float]) -> SSResult:
    """Optimal (s, S) policy by the exact algorithm of Zheng and Federgruen (1991) (S&S §4.5.3, Alg. 4.1).

    Periodic review, zero lead time, backorders, i.i.d. integer demand with ``P(D = values[i]) = probs[i]``.
    An order raises the inventory position to S whenever it is at or below s. Cost per period is
    ``c(s, S)`` of :class:`_SSCosts`; the algorithm starts at ``y* = argmin G``, lowers s until
    ``c(s, y*) ≤ G(s)``, then raises S while ``G(S) ≤ c*``, improving (s, S) whenever ``c(s, S) < c*``.
    """
    _nonneg(fixed_cost=fixed_cost)
    _positive(holding_cost=holding_cost, stockout_cost=stockout_cost)
    v, pr = _pmf(values, probs)
    if np.any(v != np.round(v)):
        raise ValueError("values must be whole numbers of units for the (s, S) algorithm")
    if pr[v == 0].sum() >= 1.0:
        raise ValueError("demand is zero with probability 1; there is nothing to order")
    cc = _SSCosts(fixed_cost, holding_cost, stockout_cost, v, pr)
    y_star = int(np.floor(newsvendor_discrete(holding_cost=holding_cost, stockout_cost=stockout_cost,
                                              values=v, probs=pr).quantity))
    s, S0 = y_star, y_star
    while True:
        s -= 1
        if cc.c(s, S0) <= cc.G(s):
            break
    c0 = cc.c(s, S0)
    S = S0 + 1
    while cc.G(S) <= c0:
        c_new = cc.c(s, S)
        if c_new < c0:
            S0 = S
            while cc.c(s, S0) <= cc.G(s + 1):
                s += 1
            c0 = cc.c(s, S0)
        S += 1
    return SSResult(s=int(s), S=int(S0), cost=c0)


# ----------------------------------------------------------------------------------------- lot sizing


def wagner_whitin(*, fixed_cost: float, holding_cost: float, demand: Sequence[float]) -> WagnerWhitinResult:
    """Uncapacitated lot sizing by the Wagner–Whitin dynamic program (S&S §3.6, eq. 3.37).

    Periods t = 1..T; an order in period t covers demand of t..j-1. With ``θ_T+1 = 0``,
    ``θ_t = min_{j > t} { K + h Σ_{i=t}^{j-1} (i - t) d_i + θ_j }`` (holding charged on end-of-period
    stock, h per unit per period); the plan orders in each period that starts a chosen interval.
    """
    _nonneg(fixed_cost=fixed_cost, holding_cost=holding_cost)
    d = np.asarray(demand, dtype=float)
    if d.ndim != 1 or d.size == 0 or not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError("demand must be a non-empty sequence of finite values >= 0")
    n = d.size
    theta = np.zeros(n + 1)
    nxt = np.zeros(n, dtype=int)
    for t in range(n - 1, -1, -1):
        j = np.arange(t + 1, n + 1)
        carry = np.cumsum(np.arange(n - t) * d[t:])          # Σ_{i=t}^{j-1} (i - t) d_i for j = t+1..n
        fixed = np.where(np.cumsum(d[t:]) > 0, fixed_cost, 0.0)
        cand = fixed + holding_cost * carry + theta[j]
        best = int(np.argmin(cand))
        theta[t], nxt[t] = cand[best], j[best]
    q = np.zeros(n)
    t = 0
    while t < n:
        q[t] = d[t:nxt[t]].sum()
        t = nxt[t]
    return WagnerWhitinResult(quantities=tuple(float(x) for x in q), cost=float(theta[0]))
