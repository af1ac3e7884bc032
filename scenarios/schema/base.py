"""Shared base for every scenario section: unknown keys are errors."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=True)
