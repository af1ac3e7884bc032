"""The `data:` and `engine:` sections: where the SSOT lives and what builds it."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from scenarios.schema.base import Section


class DemoConfig(Section):
    """The embedded default business (model.ssot.demo), generated when no sources are configured."""
    skus: int = Field(500, ge=10, le=200_000)
    years: float = Field(3.0, gt=0.2, le=10)
    seed: int = 7


class DataConfig(Section):
    db: str = Field("out/{scenario}/ssot.duckdb", description="DuckDB file of the SSOT; {scenario} is substituted")
    sources: str | None = Field(None, description="sources manifest (YAML); relative to the scenario file")
    demo: DemoConfig = DemoConfig()


class EngineConfig(Section):
    """Which engine runs the SSOT's derived tables and the fan-out of independent solves."""
    kind: Literal["duckdb", "spark"] = "duckdb"
    spark_master: str = Field("local[2]", description="Spark master URL, or sc://host:port for Spark Connect")
    spark_conf: dict[str, str] = Field(default_factory=dict)
    workers: int = Field(1, ge=1, le=256, description="processes for local fan-out")
