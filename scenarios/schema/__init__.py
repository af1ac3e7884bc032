"""The scenario schema: one pydantic model, the single source of truth for every setting.

A scenario YAML names a base (``extends: base``) and overrides what differs; :func:`scenarios.load`
merges and validates it before anything runs. Unknown keys are errors.
"""
from __future__ import annotations

from pydantic import Field

from scenarios.schema.base import Section
from scenarios.schema.data import DataConfig, DemoConfig, EngineConfig
from scenarios.schema.forecast import ForecastConfig
from scenarios.schema.inventory import InventoryConfig
from scenarios.schema.pricing import PricingConfig
from scenarios.schema.signals import SignalsConfig
from scenarios.schema.simulation import SimulationConfig
from scenarios.schema.workforce import WorkforceConfig


class Scenario(Section):
    name: str = Field("base", description="scenario name; outputs go to out/<name>/")
    description: str = ""
    seed: int = Field(42, description="master seed: every stage derives its own seed from it")
    horizon_weeks: int = Field(52, ge=1, le=156, description="planning horizon in weeks")
    growth_by_month: list[float] = Field(
        default_factory=lambda: [1.0] * 12,
        description="demand multiplier per calendar month (Jan..Dec) applied on top of the forecast")
    data: DataConfig = DataConfig()
    engine: EngineConfig = EngineConfig()
    forecast: ForecastConfig = ForecastConfig()
    inventory: InventoryConfig = InventoryConfig()
    pricing: PricingConfig = PricingConfig()
    workforce: WorkforceConfig = WorkforceConfig()
    simulation: SimulationConfig | None = None
    signals: SignalsConfig = SignalsConfig()


__all__ = ["Scenario", "DataConfig", "DemoConfig", "EngineConfig", "ForecastConfig", "InventoryConfig",
           "PricingConfig", "SignalsConfig", "SimulationConfig", "WorkforceConfig"]
