"""The `pricing:` section of a scenario (owned by model/pricing)."""
from __future__ import annotations

from scenarios.schema.base import Section


class PricingConfig(Section):
    """Settings of the pricing stage. Every field has a default so a scenario may omit the section."""
