"""The `forecast:` section of a scenario (owned by model/forecast)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from scenarios.schema.base import Section

MODEL_NAMES = ("naive", "seasonal_naive", "ets", "tsb", "boosting", "tft", "nhits")


class NeuralConfig(Section):
    """pytorch-forecasting settings shared by TFT and N-HiTS (trained on one torch thread)."""

    encoder_length: int = Field(26, ge=2, le=520, description="past periods the encoder sees")
    epochs: int = Field(4, ge=1, le=500, description="training epochs")
    batches_per_epoch: int = Field(20, ge=1, description="batches per epoch (caps CPU time)")
    batch_size: int = Field(128, ge=8, le=4096)
    learning_rate: float = Field(0.01, gt=0, le=1.0)
    hidden_size: int = Field(16, ge=4, le=512)
    dropout: float = Field(0.1, ge=0, lt=1)


class BoostingConfig(Section):
    """Global HistGradientBoosting settings."""

    max_iter: int = Field(80, ge=10, le=5000, description="boosting iterations")
    learning_rate: float = Field(0.08, gt=0, le=1.0)
    max_leaf_nodes: int = Field(31, ge=4, le=1024)
    max_origins: int = Field(26, ge=4, description="forecast origins per series used for training")
    max_rows: int = Field(100_000, ge=1000, description="training rows (sampled with the stage seed above this)")


class ForecastConfig(Section):
    """Settings of the forecast stage. Every field has a default so a scenario may omit the section."""

    models: list[Literal["naive", "seasonal_naive", "ets", "tsb", "boosting", "tft", "nhits"]] = Field(
        default_factory=lambda: ["seasonal_naive", "tsb", "boosting", "nhits"],
        description="models backtested and eligible for selection (weekly AutoETS with a 52-week season "
                    "costs ~0.1 CPU-s per series: add 'ets' where the budget allows)")
    freq: Literal["D", "W", "M"] = Field("W", description="grain of demand: day, week (Monday) or month")
    level: Literal["sku", "sku_location"] = Field("sku", description="one series per SKU or per SKU × location")
    backtest_folds: int = Field(2, ge=0, le=20, description="rolling-origin folds (0: no backtest)")
    backtest_step: int | None = Field(None, ge=1, description="periods between cutoffs (default: the horizon)")
    backtest_horizon: int | None = Field(
        13, ge=1, description="horizon scored in the backtest (default: the forecast horizon); shorter is cheaper")
    selection_metric: Literal["wape", "mase", "pinball"] = Field("pinball", description="model choice metric")
    time_budget_s: float | None = Field(
        None, gt=0, description="wall-clock budget of the backtest: models that do not finish every fold in it "
                                "are dropped. Off by default, because what is dropped then depends on the "
                                "machine's speed and load, and the same scenario and seed must give the same "
                                "numbers; the dropped models are listed in the summary when it is set")
    outlier_mad_k: float = Field(8.0, ge=0, description="cap demand at median + k·MAD per series (0: off)")
    min_history_periods: int = Field(8, ge=1, description="fewer known periods → cold start from category")
    slow_units: float = Field(2.0, ge=0, description="mean demand per period below this is a slow mover")
    ets_jobs: int = Field(1, ge=1, le=64, description="processes for AutoETS")
    cache_dir: str | None = Field(".scaleplan_cache/forecast", description="fitted-model cache (null: off)")
    neural: NeuralConfig = NeuralConfig()
    boosting: BoostingConfig = BoostingConfig()
