"""The `inventory:` section of a scenario (owned by model/inventory)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from scenarios.schema.base import Section


class InventoryConfig(Section):
    """Settings of the inventory stage. Every field has a default so a scenario may omit the section.

    Money is in the SSOT's currency; rates are per year unless the name says per week.
    """

    service_type: Literal["fill_rate", "cycle"] = Field(
        "fill_rate", description="fill_rate: share of demand served from stock; cycle: P(no stock-out per cycle)")
    service_level: float = Field(0.95, gt=0.5, lt=1.0, description="target service level (fraction)")
    holding_rate: float = Field(0.25, ge=0, le=2, description="holding cost per year as a share of unit cost")
    order_cost: float = Field(25.0, ge=0, description="fixed cost per purchase order line, currency")
    stockout_penalty: float = Field(
        1.0, ge=0, description="lost-sale penalty per unit as a multiple of the unit's gross margin (min 1x cost)")
    shortfall_penalty_rate: float = Field(
        1.0, ge=0, description="penalty per unit-week below the safety-stock target, as a share of unit cost "
                               "per year (1.0 = four times the default holding rate)")
    budget_per_week: float | None = Field(
        None, gt=0, description="cash tied up in stock (at cost) allowed per week; None = no budget")
    budget_share_of_baseline: float | None = Field(
        None, gt=0, le=10, description="budget as a share of the value of stock on hand and on order today (used when "
                                 "budget_per_week is None). In weeks where stock already held or on order is "
                                 "worth more, the budget is lifted to that value: nothing new is ordered then")
    storage_m3: float | None = Field(
        None, gt=0, description="warehouse storage capacity, m^3; None = sum of warehouse storage_m3 in the SSOT")
    inbound_units_per_week: float | None = Field(
        None, gt=0, description="inbound receiving capacity, units per week; None = unlimited")
    horizon_weeks: int | None = Field(
        None, ge=2, le=156, description="planning horizon of the replenishment program; None = scenario horizon")
    max_cover_weeks: float = Field(
        16.0, gt=0, le=104, description="stock may not exceed this many weeks of mean demand (plus safety stock, "
                                        "one MOQ and one case)")
    max_states: int = Field(
        160, ge=16, le=4096, description="inventory grid points per SKU in the dynamic program; fast movers "
                                         "are planned in whole-case granules so their grid fits")
    time_limit_s: float = Field(120.0, gt=0, description="wall-clock limit of the replenishment program, s")
    target_gap: float = Field(0.01, ge=0, lt=1, description="stop when the certified relative gap is below this")
    max_iterations: int = Field(60, ge=1, le=10_000, description="price-coordination rounds at most")
    workers: int | None = Field(
        None, ge=1, le=256, description="processes for the per-SKU programs; None = engine.workers")
    slow_mover_cover_weeks: float = Field(26.0, gt=0, description="weeks of cover above which a SKU is a slow mover")
    dead_stock_days: int = Field(180, ge=1, description="days without a sale after which stock is dead")
    abc_shares: tuple[float, float] = Field((0.8, 0.95), description="cumulative value shares closing A and B")
    xyz_cv: tuple[float, float] = Field((0.5, 1.0), description="forecast CV limits closing X and Y")
    evaluation_samples: int = Field(200, ge=10, le=100_000, description="demand paths sampled for evaluation")

    @model_validator(mode="after")
    def _ordered_limits(self):
        for name in ("abc_shares", "xyz_cv"):
            lo, hi = getattr(self, name)
            if not 0 < lo < hi:
                raise ValueError(f"{name} must be two increasing positive numbers, got {(lo, hi)}")
        return self
