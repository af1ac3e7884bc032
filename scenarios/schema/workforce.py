"""The `workforce:` section of a scenario (owned by model/workforce)."""
from __future__ import annotations

from scenarios.schema.base import Section


class WorkforceConfig(Section):
    """Settings of the workforce stage. Every field has a default so a scenario may omit the section."""
