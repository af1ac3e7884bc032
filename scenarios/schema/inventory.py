"""The `inventory:` section of a scenario (owned by model/inventory)."""
from __future__ import annotations

from scenarios.schema.base import Section


class InventoryConfig(Section):
    """Settings of the inventory stage. Every field has a default so a scenario may omit the section."""
