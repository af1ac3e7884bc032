"""The multi-week pricing program: each constraint family on its own, and the decomposition (DP +
Lagrangian + polish) against the Pyomo/HiGHS program it solves."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from model.pricing.decompose import Decomposition, chain_dp, solve_decomposed
from model.pricing.highs_direct import solve_direct
from model.pricing.instance import make_instance
from model.pricing.plan import plan_frame, plan_prices
from model.pricing.program import solve_program
from scenarios.schema.pricing import PricingConfig

WIDE = dict(min_margin=-0.99, competitor_index_min=0.01, competitor_index_max=100.0, max_weekly_change=5.0,
            ladder_min=-0.5, ladder_max=0.5, ladder_steps=21, price_endings=[], horizon_weeks=4, clearance_week=4)


def frames(n_weeks=4, **sku):
    row = {"sku_id": "A", "unit_cost": 5.0, "list_price": 10.0, "current_price": 10.0, "elasticity": -2.0} | sku
    skus = pd.DataFrame([row])
    weeks = pd.DataFrame({"sku_id": "A", "week_start": np.arange(n_weeks), "base_units": 100.0})
    return skus, weeks


def both(skus, weeks, cfg):
    """Plan by decomposition and by the Pyomo program; assert they reach the same objective."""
    inst = make_instance(skus, weeks, cfg)
    sol = solve_decomposed(inst, rel_gap=1e-9)
    choice, res = solve_program(inst)
    assert sol.lower.sum() == pytest.approx(res.objective, rel=1e-6, abs=1e-6)
    return inst, plan_frame(inst, sol)


def test_unconstrained_weeks_pick_closed_form_price():
    # e = −2, c = 5 ⇒ p* = 2c = 10 (on the ladder): every week keeps 10
    inst, plan = both(*frames(), PricingConfig(**WIDE))
    assert np.allclose(plan["price"], 10.0)
    assert (plan["binding"] == "none").all()


def test_margin_floor():
    cfg = PricingConfig(**WIDE | {"min_margin": 0.6})     # (p − 5)/p ≥ 0.6 ⇒ p ≥ 12.5
    inst, plan = both(*frames(), cfg)
    assert np.allclose(plan["price"], 12.5)
    assert ((plan["price"] - 5) / plan["price"] >= 0.6 - 1e-9).all()
    assert (plan["binding"] == "margin_floor").all()


def test_competitor_index_band():
    skus, weeks = frames()
    weeks["competitor_price"] = 8.0                      # p/8 ≤ 1.1 ⇒ p ≤ 8.8 → ladder 8.5
    cfg = PricingConfig(**WIDE | {"competitor_index_min": 0.9, "competitor_index_max": 1.1})
    inst, plan = both(skus, weeks, cfg)
    assert np.allclose(plan["price"], 8.5)
    assert plan["price_index"].between(0.9, 1.1).all()
    assert (plan["binding"] == "competitor_index").all()


def test_max_weekly_change_walks_gradually():
    # optimum 10, current price 14: 5 % steps down, never more than 5 % a week
    skus, weeks = frames(n_weeks=8, current_price=14.0)
    cfg = PricingConfig(**WIDE | {"max_weekly_change": 0.05, "horizon_weeks": 8, "clearance_week": 8})
    inst, plan = both(skus, weeks, cfg)
    p = np.concatenate([[14.0], plan["price"].to_numpy()])
    assert (np.abs(np.diff(p)) <= 0.05 * p[:-1] + 1e-9).all()
    assert p[-1] == pytest.approx(10.0)
    assert plan["binding"].iloc[0] == "max_change"


def test_inventory_coupling():
    # 4 weeks × 100 units at p = 10; only 250 units in stock: raise prices until Σ q ≤ 250
    skus, weeks = frames(stock=250.0, clearance=False)
    cfg = PricingConfig(**WIDE | {"stock_limited": "all"})
    inst, plan = both(skus, weeks, cfg)
    assert plan["expected_units"].sum() <= 250 + 1e-6
    assert plan["expected_units"].sum() >= 200               # not far below: one ladder step of slack at most
    assert (plan["price"] > 10).any() and (plan["binding"] == "inventory").all()


def test_price_family_shares_one_price():
    skus = pd.DataFrame({"sku_id": ["A", "B"], "unit_cost": [5.0, 5.0], "list_price": [10.0, 10.0],
                         "current_price": [10.0, 10.0], "elasticity": [-1.5, -4.0], "family": ["F", "F"]})
    weeks = pd.DataFrame({"sku_id": np.repeat(["A", "B"], 4), "week_start": np.tile(np.arange(4), 2),
                          "base_units": 100.0})
    inst, plan = both(skus, weeks, PricingConfig(**WIDE))
    wide = plan.pivot(index="week_start", columns="sku_id", values="price")
    assert (wide["A"] == wide["B"]).all()
    # the family price maximises the joint margin over the ladder
    L = inst.ladder[0][np.isfinite(inst.ladder[0])]
    joint = sum((L - 5) * 100 * (L / 10) ** e for e in (-1.5, -4.0))
    assert wide["A"].iloc[0] == pytest.approx(L[np.argmax(joint)])
    assert set(plan["binding"]) <= {"price_family", "none"} and (plan["binding"] == "price_family").any()


def test_markdown_clears_flagged_stock_by_target():
    # 300 units of a slow mover, 50/week at the current price; free optimum is the top of the ladder (e = −1.3)
    # where it sells ~30/week. Clearing 90 % within 3 weeks needs 90/week, i.e. a price near 6.4 (cost 6).
    flagged = dict(n_weeks=4, stock=300.0, elasticity=-1.3, unit_cost=6.0)
    cfg = PricingConfig(**WIDE | {"horizon_weeks": 4, "clearance_week": 3, "clearance_share": 0.9,
                                  "markdown_min_margin": 0.0, "markdown_ladder_min": -0.5, "stock_limited": "flagged"})
    skus, weeks = frames(clearance=True, **flagged)
    weeks["base_units"] = [50.0, 50.0, 50.0, 10.0]             # little demand is left after the target
    inst, plan = both(skus, weeks, cfg)
    assert plan["expected_units"].iloc[:3].sum() >= 0.9 * 300 - 1e-6
    assert plan["expected_units"].sum() <= 300 + 1e-6
    assert (plan["price"] >= 6.0).all()                         # markdown floor: never below cost
    assert (plan["binding"].iloc[:3] == "markdown_clearance").all()
    skus, weeks = frames(clearance=False, **flagged)
    weeks["base_units"] = [50.0, 50.0, 50.0, 10.0]
    _, unflagged = both(skus, weeks, cfg)
    assert unflagged["expected_units"].iloc[:3].sum() < 0.5 * 300  # without the flag it would not clear
    assert plan["price"].iloc[:3].max() < unflagged["price"].iloc[:3].min()


def test_chain_dp_matches_enumeration():
    rng = np.random.default_rng(0)
    R = rng.normal(size=(5, 3, 4))
    compat = rng.random((5, 4, 4)) < 0.6
    first = rng.random((5, 4)) < 0.7
    choice, value = chain_dp(R, compat, first)
    for u in range(5):
        best = -np.inf
        for a in range(4):
            for b in range(4):
                for c in range(4):
                    if first[u, a] and compat[u, a, b] and compat[u, b, c]:
                        best = max(best, R[u, 0, a] + R[u, 1, b] + R[u, 2, c])
        assert value[u] == pytest.approx(best)
        if np.isfinite(best):
            assert R[u, [0, 1, 2], choice[u]].sum() == pytest.approx(best)


def random_catalogue(seed, n=24, n_weeks=6):
    rng = np.random.default_rng(seed)
    lp = rng.uniform(8, 30, n)
    skus = pd.DataFrame({"sku_id": [f"S{i}" for i in range(n)], "unit_cost": lp * rng.uniform(0.3, 0.7, n),
                         "list_price": lp, "current_price": lp, "elasticity": rng.uniform(-4, -1.2, n),
                         "family": [f"F{i // 3}" if i < 9 else None for i in range(n)],
                         "stock": rng.uniform(50, 400, n), "clearance": rng.random(n) < 0.3})
    skus.loc[skus["family"].notna(), ["list_price", "current_price"]] = 20.0
    weeks = pd.DataFrame({"sku_id": np.repeat(skus["sku_id"], n_weeks), "week_start": np.tile(np.arange(n_weeks), n),
                          "base_units": rng.uniform(10, 60, n * n_weeks)})
    weeks["competitor_price"] = np.repeat(skus["list_price"].to_numpy(), weeks.shape[0] // n) * rng.uniform(
        0.95, 1.05, len(weeks))
    cfg = PricingConfig(horizon_weeks=weeks["week_start"].nunique(), clearance_week=4, stock_limited="all",
                        min_margin=0.1, competitor_index_min=0.8, competitor_index_max=1.2)
    return skus, weeks, cfg


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_decomposition_bounds_bracket_the_program_optimum(seed):
    skus, weeks, cfg = random_catalogue(seed)
    inst = make_instance(skus, weeks, cfg)
    st = Decomposition(inst).run()
    choice, res = solve_program(inst)
    assert st.lower.sum() <= res.objective + 1e-6 <= st.upper.sum() + 2e-6
    sol = solve_decomposed(inst, rel_gap=1e-9)
    assert sol.lower.sum() == pytest.approx(res.objective, rel=1e-7)
    assert sol.gap <= 1e-6


def test_plan_prices_is_the_same_with_two_processes():
    skus, weeks, cfg = random_catalogue(4)
    cfg.mip_rel_gap = 1e-7
    one, s1 = plan_prices(skus, weeks, cfg, workers=1)
    two, s2 = plan_prices(skus, weeks, cfg, workers=2)
    merged = one.merge(two, on=["sku_id", "week_start"])
    assert len(merged) == len(one)
    assert s1["objective"] == pytest.approx(s2["objective"], rel=1e-6)


def test_bad_input_names_the_row():
    skus, weeks = frames()
    skus.loc[0, "unit_cost"] = -1
    with pytest.raises(ValueError, match="unit_cost"):
        make_instance(skus, weeks, PricingConfig())


@pytest.mark.parametrize("seed", [1, 3])
def test_direct_highs_build_is_the_same_program(seed):
    skus, weeks, cfg = random_catalogue(seed)
    inst = make_instance(skus, weeks, cfg)
    choice, res = solve_program(inst)
    direct, obj, bound, status = solve_direct(inst)
    assert status == "Optimal"
    assert obj == pytest.approx(res.objective, rel=1e-7)
    ev = Decomposition(inst).evaluate(direct)                 # its plan is worth what it claims
    assert ev["objective"].sum() == pytest.approx(obj, rel=1e-7)


MARKDOWN = WIDE | {"horizon_weeks": 4, "clearance_week": 4, "clearance_share": 0.9, "stock_limited": "flagged",
                   "markdown_min_margin": 0.0, "markdown_ladder_min": -0.5, "clearance_confidence": 0.5}


def family_with_slow_mover(stock_b):
    """Family F: A (regular, e = −2, cost 5 ⇒ its best price is 10 = 2c) and B (flagged slow mover,
    e = −1.5, 20 units/week at 10)."""
    skus = pd.DataFrame({"sku_id": ["A", "B"], "unit_cost": [5.0, 4.0], "list_price": [10.0, 10.0],
                         "current_price": [10.0, 10.0], "elasticity": [-2.0, -1.5], "family": ["F", "F"],
                         "stock": [np.nan, stock_b], "clearance": [False, True]})
    weeks = pd.DataFrame({"sku_id": np.repeat(["A", "B"], 4), "week_start": np.tile(np.arange(4), 2),
                          "base_units": np.repeat([100.0, 20.0], 4)})
    return skus, weeks


def test_flagged_sku_leaves_its_family_and_clears_its_stock():
    # B alone would price at 12 (= 1.5·c/0.5) and sell 61 of its 100 units; 90 in 4 weeks needs 22.5/week
    # ⇒ 20·(p/10)^−1.5 ≥ 22.5 ⇒ p ≤ 9.24 on average: two weeks at 9.5 and two at 9.0 sell exactly 90.0
    cfg = PricingConfig(**MARKDOWN)
    inst, plan = both(*family_with_slow_mover(100.0), cfg)
    a, b = plan[plan["sku_id"] == "A"], plan[plan["sku_id"] == "B"]
    assert set(a["price_unit"]) == {"F"} and set(b["price_unit"]) == {"B"}      # B priced on its own
    assert np.allclose(a["price"], 10.0) and set(a["markdown"]) == {"none"}      # A keeps its own optimum
    assert set(b["markdown"]) == {"clear"} and (b["liquidate_units"] == 0).all()
    # the known response: units sold by the target reach 90 % of the stock, never below cost (floor 0)
    sold = (20.0 * (b["price"] / 10.0) ** -1.5).sum()
    assert 90.0 - 1e-6 <= sold <= 100.0 + 1e-6 and np.allclose(sold, b["expected_units"].sum())
    assert sorted(b["price"]) == [9.0, 9.0, 9.5, 9.5]
    assert (b["binding"] == "markdown_clearance").all()
    # the most the ladder sells by the target: 4 weeks at its floor price 5.0 ⇒ 4·20·0.5^−1.5
    assert b["clear_max_units"].iloc[0] == pytest.approx(4 * 20 * 0.5 ** -1.5)


def test_unclearable_stock_is_a_liquidation_candidate():
    # 1,000 units: even the ladder floor (5.0, 56.6 units/week) sells 226 in 4 weeks < 900 ⇒ no markdown
    cfg = PricingConfig(**MARKDOWN)
    inst, plan = both(*family_with_slow_mover(1000.0), cfg)
    b = plan[plan["sku_id"] == "B"]
    assert set(b["markdown"]) == {"liquidate"} and set(b["price_unit"]) == {"F"}  # stays in its family
    assert inst.clear_units.sum() == 0 and inst.liquidate.tolist() == [False, True]
    assert b["clear_max_units"].iloc[0] == pytest.approx(4 * 20 * 0.5 ** -1.5)
    # the family price is A's and B's joint optimum on the regular ladder; what B does not sell is liquidated
    assert (b["price"] >= 10.0 * (1 + cfg.ladder_min) - 1e-9).all()
    assert b["liquidate_units"].iloc[0] == pytest.approx(1000.0 - b["expected_units"].sum())


def test_markdown_target_holds_under_a_less_responsive_elasticity():
    # se 0.4 at 84 % confidence (z = 1): the target counts units at e = −1.5 + 0.4 = −1.1, so the plan
    # marks down deeper than the point estimate needs and expects to sell more than 90 % of the stock
    skus, weeks = family_with_slow_mover(100.0)
    skus["elasticity_se"] = [np.nan, 0.4]
    cfg = PricingConfig(**MARKDOWN | {"clearance_confidence": float(stats.norm.cdf(1.0))})
    inst, plan = both(skus, weeks, cfg)
    b = plan[plan["sku_id"] == "B"]
    cautious = (20.0 * (b["price"] / 10.0) ** -1.1).sum()
    assert cautious == pytest.approx(90.0, abs=0.05)     # 0.009 short: cheaper (at 30/unit) than a lower step
    assert b["expected_units"].sum() > 93.0            # the point estimate expects ~94: a safety margin over 90
    _, point = both(*family_with_slow_mover(100.0), PricingConfig(**MARKDOWN))
    assert b["price"].mean() < point.loc[point["sku_id"] == "B", "price"].mean()


def test_markdown_when_a_plausibly_more_responsive_elasticity_clears():
    # 270 units, target 243: at the point estimate e = −1.5 the ladder floor (5.0) sells 4·20·0.5^−1.5 = 226 —
    # short. With se 0.4 the markdown clears when e + z·0.4 with z = Φ⁻¹(0.2) = −0.84 (e = −1.84: 286 units):
    # P(target reachable) ≥ markdown_min_probability ⇒ marked down, at the floor every week, with the target
    # planned at the z where the floor path just reaches 243: 80·0.5^(−1.5+0.4z) = 243 ⇒ z = −0.2575
    skus, weeks = family_with_slow_mover(270.0)
    skus["elasticity_se"] = [np.nan, 0.4]
    inst, plan = both(skus, weeks, PricingConfig(**MARKDOWN))
    b = plan[plan["sku_id"] == "B"]
    assert set(b["markdown"]) == {"clear"} and set(b["price_unit"]) == {"B"} and np.allclose(b["price"], 5.0)
    z = (np.log(243.0 / 80.0) / np.log(0.5) + 1.5) / 0.4
    assert b["clear_confidence"].iloc[0] == pytest.approx(stats.norm.cdf(z), abs=1e-3) and z < 0
    assert b["clear_max_units"].iloc[0] == pytest.approx(80.0 * 0.5 ** -1.5)       # the point estimate's best
    assert b["expected_units"].sum() == pytest.approx(80.0 * 0.5 ** -1.5)          # honestly short of 243
    # no uncertainty, or a stricter probability: a liquidation candidate in its family, as before
    skus["elasticity_se"] = [np.nan, 0.0]
    assert set(both(skus, weeks, PricingConfig(**MARKDOWN))[1].query("sku_id == 'B'")["markdown"]) == {"liquidate"}
    skus["elasticity_se"] = [np.nan, 0.4]
    strict = PricingConfig(**MARKDOWN | {"markdown_min_probability": 0.45})      # z = −0.126: 80·0.5^−1.55 = 234
    assert set(both(skus, weeks, strict)[1].query("sku_id == 'B'")["markdown"]) == {"liquidate"}


def test_liquidation_candidate_sold_down_first_when_liquidation_recovers_nothing():
    # recovery 0: each unit sold in store instead of written off earns its price, and with e = −1.5 revenue
    # grows as the price falls ⇒ B leaves the family for the markdown ladder's floor (5.0) every week
    cfg = PricingConfig(**MARKDOWN | {"liquidation_recovery": 0.0})
    inst, plan = both(*family_with_slow_mover(1000.0), cfg)
    a, b = plan[plan["sku_id"] == "A"], plan[plan["sku_id"] == "B"]
    assert set(b["markdown"]) == {"sell_down"} and set(b["price_unit"]) == {"B"}
    assert np.allclose(b["price"], 5.0) and np.allclose(a["price"], 10.0)
    assert b["liquidate_units"].iloc[0] == pytest.approx(1000.0 - 4 * 20 * 0.5 ** -1.5)
    assert np.allclose(b["margin"], (5.0 - 4.0) * 20 * 0.5 ** -1.5)          # the plan reports true margin


@pytest.mark.parametrize("seed", [2, 5])
def test_markdown_rows_agree_across_the_three_solvers(seed):
    # cautious targets (se), soft over-stock of markdowns and sold-down liquidation candidates: the
    # decomposition, the Pyomo program and the direct HiGHS build reach the same optimum
    skus, weeks, cfg = random_catalogue(seed)
    skus["stock"] *= np.array([0.3, 3.0, 30.0])[np.arange(len(skus)) % 3]   # some clearable, some not
    skus["elasticity_se"] = np.random.default_rng(seed).uniform(0.1, 0.6, len(skus))
    cfg = cfg.model_copy(update={"stock_limited": "flagged", "liquidation_recovery": 0.2})
    inst, plan = both(skus, weeks, cfg)
    assert inst.markdown.any() and inst.sold_down.any()
    _, obj, _, status = solve_direct(inst)
    assert status == "Optimal" and obj == pytest.approx(Decomposition(inst).evaluate(
        solve_decomposed(inst, rel_gap=1e-9).choice)["objective"].sum(), rel=1e-7)
