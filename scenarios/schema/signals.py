"""The `signals:` section of a scenario (owned by model/signals)."""
from __future__ import annotations

from scenarios.schema.base import Section


class SignalsConfig(Section):
    """Settings of the signals stage. Every field has a default so a scenario may omit the section."""
