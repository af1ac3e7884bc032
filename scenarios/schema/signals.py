"""The `signals:` section: rules of the signal-to-action loop and the guardrails for auto-approval."""
from __future__ import annotations

from pydantic import Field

from scenarios.schema.base import Section


class ReorderRule(Section):
    """Inventory position (on hand + on order) below the reorder point r = μ_L + z·σ_L."""
    enabled: bool = True
    service_level: float = Field(0.95, gt=0.5, lt=1.0, description="cycle service level behind z")
    review_days: int = Field(7, ge=1, le=90, description="order covers lead time + this review period")
    history_days: int = Field(56, ge=7, le=730, description="days of sales that estimate daily demand")


class DemandShiftRule(Section):
    """Two-sided tabular CUSUM on standardised daily forecast errors (surge or drop vs forecast)."""
    enabled: bool = True
    k: float = Field(0.5, ge=0, description="allowance, in standard deviations")
    h: float = Field(5.0, gt=0, description="decision interval, in standard deviations")
    window_days: int = Field(28, ge=7, le=365, description="days of errors the CUSUM runs over")
    min_daily_units: float = Field(1.0, ge=0, description="skip series slower than this (use the slow-mover rule)")


class CompetitorPriceRule(Section):
    """A competitor's price moved by more than ``threshold_pct`` since its previous observation."""
    enabled: bool = True
    threshold_pct: float = Field(5.0, gt=0, le=100)


class WorkloadRule(Section):
    """Forecast workload of the next ``days_ahead`` days above rostered capacity by more than ``tolerance_pct``."""
    enabled: bool = True
    days_ahead: int = Field(2, ge=1, le=14)
    units_per_hour: float = Field(60.0, gt=0, description="warehouse labour standard, units per staff-hour")
    tolerance_pct: float = Field(5.0, ge=0, le=100)
    location_id: str | None = Field(None, description="warehouse whose staff is checked (default: the first)")


class SlowMoverRule(Section):
    """Stock on hand with no sale for more than ``max_days_without_sale`` days → markdown."""
    enabled: bool = True
    max_days_without_sale: int = Field(60, ge=7, le=730)
    markdown_pct: float = Field(20.0, gt=0, lt=90)


class BacklogRule(Section):
    """Orders created but not shipped for more than ``sla_hours`` above ``max_late_orders``."""
    enabled: bool = True
    sla_hours: float = Field(24.0, gt=0)
    max_late_orders: int = Field(50, ge=0)
    minutes_per_order: float = Field(6.0, gt=0, description="labour per order to clear the backlog")


class Guardrails(Section):
    """Actions inside these limits are auto-approved; anything larger is proposed for approval."""
    max_order_value: float = Field(5_000.0, ge=0, description="currency per purchase order")
    max_price_change_pct: float = Field(10.0, ge=0, le=100)
    max_extra_hours: float = Field(16.0, ge=0, description="extra staff-hours per day")


class SignalsConfig(Section):
    reorder: ReorderRule = ReorderRule()
    demand_shift: DemandShiftRule = DemandShiftRule()
    competitor_price: CompetitorPriceRule = CompetitorPriceRule()
    workload: WorkloadRule = WorkloadRule()
    slow_mover: SlowMoverRule = SlowMoverRule()
    backlog: BacklogRule = BacklogRule()
    guardrails: Guardrails = Guardrails()
    outbox: str = Field("actions.jsonl", description="JSON-lines export of the actions, relative to --landing's parent")
