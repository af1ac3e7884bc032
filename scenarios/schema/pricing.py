"""The `pricing:` section of a scenario (owned by model/pricing)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from scenarios.schema.base import Section


class PricingConfig(Section):
    """Settings of the pricing stage. Every field has a default so a scenario may omit the section.

    Ladder: ``ladder_steps`` prices evenly spaced from ``list·(1+ladder_min)`` to ``list·(1+ladder_max)``,
    each snapped to the nearest price ending (``x.99`` …); duplicates after snapping are dropped.
    """

    horizon_weeks: int = Field(13, ge=1, le=104, description="weeks planned ahead")
    ladder_min: float = Field(-0.30, ge=-0.95, le=0.0, description="lowest ladder price vs list price (fraction)")
    ladder_max: float = Field(0.15, ge=0.0, le=2.0, description="highest ladder price vs list price (fraction)")
    ladder_steps: int = Field(12, ge=2, le=60, description="number of ladder prices before snapping")
    price_endings: list[float] = Field(
        default_factory=lambda: [0.99, 0.49],
        description="allowed fractional parts of a price (e.g. 0.99); empty = round to cents")
    objective: Literal["margin", "revenue"] = Field(
        "margin", description="maximise gross margin, or revenue subject to the margin floor")
    min_margin: float = Field(0.15, ge=-1.0, lt=1.0, description="minimum gross margin (p - c)/p per chosen price")
    markdown_min_margin: float = Field(
        -0.5, ge=-1.0, lt=1.0, description="margin floor for SKUs flagged for markdown clearance (their cost is "
                                          "sunk: −0.5 allows prices down to cost/1.5)")
    markdown_ladder_min: float = Field(-0.6, ge=-0.95, le=0.0, description="lowest markdown price vs list price")
    markdown_max_weekly_change: float = Field(0.3, gt=0.0, le=5.0,
                                              description="largest weekly price change of a markdown SKU")
    competitor_index_min: float = Field(0.85, gt=0.0, description="lowest allowed price / competitor price "
                                        "(markdown SKUs may undercut)")
    competitor_index_max: float = Field(1.15, gt=0.0, description="highest allowed price / competitor price")
    max_weekly_change: float = Field(0.10, gt=0.0, le=5.0,
                                     description="largest relative price change from one week to the next")
    correct_out_of_band: bool = Field(
        True, description="when no price within the weekly change of the current price meets the margin floor "
                          "and competitor band, week 1 may move straight to an allowed price")
    stock_limited: Literal["none", "flagged", "all"] = Field(
        "flagged", description="which SKUs must sell within stock + inbound (replenished SKUs are not limited)")
    clearance_share: float = Field(0.9, ge=0.0, le=1.0,
                                   description="share of flagged stock to sell by the markdown target week")
    clearance_week: int = Field(13, ge=1, le=104, description="markdown target: week index (1-based) of the "
                                "horizon; capped at the horizon")
    clearance_confidence: float = Field(
        0.8, ge=0.5, lt=1.0, description="the markdown target is planned under a less responsive elasticity "
        "e + z·se, z the quantile of this one-sided confidence (lowered per SKU as far as its ladder needs to "
        "reach the target); 0.5 = the point estimate")
    liquidation_recovery: float | None = Field(
        None, ge=0.0, le=1.0, description="fraction of unit cost a liquidation (jobber, outlet) recovers per unit. "
        "None: flagged SKUs the markdown ladder cannot clear keep regular pricing and their unsold stock is "
        "reported for liquidation; a number: they are sold down on the markdown ladder first, maximising "
        "(price − recovery·cost)·units, as each unit sold in store is one not liquidated")
    markdown_min_probability: float = Field(
        0.2, gt=0.0, lt=1.0, description="a flagged SKU is marked down when the probability that its deepest "
        "allowed markdown path reaches the clearance target, under the elasticity's uncertainty, is at least "
        "this (its target is then planned as cautiously as the ladder allows); otherwise it is a liquidation "
        "candidate. 0.5 = the point estimate decides")
    slow_mover_cover_weeks: float = Field(
        26.0, gt=0.0, description="stock covering more weeks of current demand than this is flagged for markdown")
    excess_cover_weeks: float = Field(
        52.0, gt=0.0, description="flagged stock covering more weeks of current demand than this is excess "
        "(over a year of supply, excess and obsolete stock), reported apart from slow movers; it is marked down "
        "where the ladder can clear it and otherwise recommended for liquidation like any flagged SKU")
    recent_weeks: int = Field(8, ge=1, le=52, description="weeks of history behind the current price and the "
                              "baseline demand when no forecast is given")
    min_price_variation: float = Field(0.02, ge=0.0, description="std of log price below which a SKU's "
                                       "elasticity is not identifiable")
    min_observations: int = Field(20, ge=5, description="periods with sales a SKU needs for its own estimate")
    confidence: float = Field(0.90, gt=0.0, lt=1.0, description="level of reported intervals")
    time_limit_s: float = Field(60.0, gt=0.0, description="wall-clock limit of the whole pricing solve")
    mip_rel_gap: float = Field(0.005, ge=0.0, le=0.2, description="relative optimality gap accepted")

    @model_validator(mode="after")
    def _check_bands(self) -> "PricingConfig":
        if self.competitor_index_min >= self.competitor_index_max:
            raise ValueError(f"competitor_index_min ({self.competitor_index_min}) must be below "
                             f"competitor_index_max ({self.competitor_index_max})")
        if self.excess_cover_weeks <= self.slow_mover_cover_weeks:
            raise ValueError(f"excess_cover_weeks ({self.excess_cover_weeks}) must be above "
                             f"slow_mover_cover_weeks ({self.slow_mover_cover_weeks})")
        bad = [e for e in self.price_endings if not 0.0 <= e < 1.0]
        if bad:
            raise ValueError(f"price_endings must be fractions in [0, 1), got {bad}")
        return self
