"""The `forecast:` section of a scenario (owned by model/forecast)."""
from __future__ import annotations

from scenarios.schema.base import Section


class ForecastConfig(Section):
    """Settings of the forecast stage. Every field has a default so a scenario may omit the section."""
