"""The `simulation:` section of a scenario (owned by model/simulation)."""
from __future__ import annotations

from scenarios.schema.base import Section


class SimulationConfig(Section):
    """Settings of the simulation stage. Every field has a default so a scenario may omit the section."""
