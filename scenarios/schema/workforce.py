"""The `workforce:` section of a scenario (owned by model/workforce)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from scenarios.schema.base import Section


class RoleConfig(Section):
    """One role: what drives its workload and how fast one person works (labour standard)."""

    driver: Literal["units", "lines", "orders", "transactions"] = Field(
        "units", description="volume that drives the work: units shipped, order lines, orders, or store "
                             "transactions (customer-facing)")
    per_hour: float = Field(100.0, gt=0, description="labour standard: driver volume one person handles per hour")
    customer_facing: bool = Field(
        False, description="size with Erlang C (queueing) instead of volume / labour standard")
    handle_time_min: float = Field(2.0, gt=0, le=120, description="mean handle time per customer, minutes "
                                                                  "(customer-facing roles)")
    service_level: float = Field(0.8, gt=0, lt=1, description="share of customers served within target_wait_s")
    target_wait_s: float = Field(60.0, ge=0, description="service target wait, seconds")
    min_staff: int = Field(0, ge=0, description="staff present in every open hour regardless of volume")
    profile: Literal["orders", "receipts", "traffic"] = Field(
        "orders", description="history the hour-of-week profile is learned from: order timestamps, "
                              "receipt dates (spread over open hours), or store traffic")


def _default_roles() -> dict[str, RoleConfig]:
    return {
        "receive": RoleConfig(driver="units", per_hour=250.0, profile="receipts"),
        "putaway": RoleConfig(driver="units", per_hour=150.0, profile="receipts"),
        "pick": RoleConfig(driver="lines", per_hour=60.0),
        "pack": RoleConfig(driver="orders", per_hour=35.0),
        "cashier": RoleConfig(driver="transactions", customer_facing=True, handle_time_min=2.0,
                              service_level=0.8, target_wait_s=60.0, min_staff=1, profile="traffic"),
    }


class WorkforceConfig(Section):
    """Settings of the workforce stage. Every field has a default so a scenario may omit the section.

    Money is in the SSOT's currency; hours are clock hours.
    """

    roles: dict[str, RoleConfig] = Field(default_factory=_default_roles,
                                         description="roles with their workload driver and labour standard")
    location_id: str | None = Field(None, description="site to roster; None = the site with most staff")
    open_hours: tuple[int, int] = Field((6, 22), description="hours [open, close) the site works; work "
                                                             "arriving while closed is done at opening")
    shift_starts: list[int] = Field(default_factory=lambda: list(range(0, 24, 2)),
                                    description="allowed shift start hours (0..23)")
    shift_lengths_h: list[int] = Field(default_factory=lambda: [4, 6, 8, 10],
                                       description="allowed shift lengths including the break, hours (4..10)")
    break_minutes: int = Field(30, ge=0, le=60, description="unpaid break in shifts of break_after_h or more")
    break_after_h: int = Field(6, ge=1, le=10, description="shifts at least this long include the break")
    rest_hours: float = Field(11.0, ge=0, le=24, description="minimum rest between two shifts, hours")
    max_consecutive_days: int = Field(5, ge=1, le=14, description="most working days in a row")
    min_days_off_per_week: int = Field(2, ge=0, le=6, description="days off in every roster week")
    under_penalty_per_hour: float = Field(200.0, ge=0, description="penalty per uncovered staff-hour, currency")
    over_penalty_per_hour: float = Field(1.0, ge=0, description="penalty per staff-hour above requirement, currency")
    weekend_fairness_weight: float = Field(
        5.0, ge=0, description="penalty per weekend day worked by the employee with most weekend days")
    roster_week: Literal["peak", "first"] | int = Field(
        "peak", description="forecast week to roster: peak volume, the first, or an index (0-based)")
    roster_weeks: Literal[1, 4] = Field(1, description="roster horizon, weeks")
    time_limit_s: float = Field(60.0, gt=0, description="wall-clock target of the roster solve, s (a safety "
                                "net: the decomposed solve's pieces stop on gap and node limits, so results do "
                                "not depend on machine load; large sites may overrun it, each piece gets ≥ 20 s)")
    mip_gap: float = Field(0.01, ge=0, lt=1, description="relative gap at which the roster solve stops")
    fte_hours_per_week: float = Field(38.0, gt=0, le=60, description="contract hours of one core employee")
    shrinkage: float = Field(0.12, ge=0, lt=0.6, description="share of paid hours lost to leave, sickness, "
                                                             "training (headcount plan)")
    core_cost_per_hour: float | None = Field(None, gt=0, description="None = mean hourly_cost of the staff table")
    flex_max_share: float = Field(0.15, ge=0, le=1, description="flexible (extra) hours of core staff, share "
                                                                "of their contract hours")
    flex_premium: float = Field(1.25, ge=1, le=3, description="cost multiplier of a flexible hour")
    temp_premium: float = Field(1.35, ge=1, le=3, description="cost multiplier of a temporary worker's hour")
    hiring_lead_weeks: int = Field(6, ge=0, le=52, description="weeks from hiring decision to a temp starting")

    @model_validator(mode="after")
    def _check_shifts(self):
        bad = [h for h in self.shift_starts if not 0 <= h <= 23]
        if bad or not self.shift_starts:
            raise ValueError(f"shift_starts must be hours 0..23, got {self.shift_starts}")
        bad = [h for h in self.shift_lengths_h if not 4 <= h <= 10]
        if bad or not self.shift_lengths_h:
            raise ValueError(f"shift_lengths_h must be 4..10 hours, got {self.shift_lengths_h}")
        if not 0 <= self.open_hours[0] < self.open_hours[1] <= 24:
            raise ValueError(f"open_hours must satisfy 0 <= open < close <= 24, got {self.open_hours}")
        if not self.roles:
            raise ValueError("roles must name at least one role")
        return self
