"""Model registry: names used in scenarios and on the CLI → zero-argument constructors."""
from __future__ import annotations

from collections.abc import Callable

from model.forecast.baselines import Naive, SeasonalNaive
from model.forecast.boosting import GlobalBoosting
from model.forecast.contract import Forecaster
from model.forecast.intermittent import TSB
from model.forecast.neural import NeuralForecaster, NeuralSettings
from model.forecast.stats import AutoETSForecaster
from scenarios.schema.forecast import MODEL_NAMES, ForecastConfig


def build_models(names: list[str], cfg: ForecastConfig, seed: int) -> dict[str, Callable[[int], Forecaster]]:
    """Constructors (horizon → unfitted model) for ``names``; unknown names raise ValueError listing the
    valid ones."""
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown:
        raise ValueError(f"unknown forecast model(s) {unknown}; choose from {list(MODEL_NAMES)}")
    b, nn = cfg.boosting, cfg.neural

    def neural(kind: str) -> Callable[[int], Forecaster]:
        s = NeuralSettings(kind=kind, encoder_length=nn.encoder_length, epochs=nn.epochs,
                           learning_rate=nn.learning_rate, hidden_size=nn.hidden_size, batch_size=nn.batch_size,
                           batches_per_epoch=nn.batches_per_epoch, dropout=nn.dropout, seed=seed)
        return lambda h: NeuralForecaster(h, s)

    table = {
        "naive": lambda h: Naive(),
        "seasonal_naive": lambda h: SeasonalNaive(),
        "ets": lambda h: AutoETSForecaster(n_jobs=cfg.ets_jobs),
        "tsb": lambda h: TSB(),
        "boosting": lambda h: GlobalBoosting(h, max_iter=b.max_iter, learning_rate=b.learning_rate,
                                           max_leaf_nodes=b.max_leaf_nodes, max_origins=b.max_origins,
                                           max_rows=b.max_rows, seed=seed),
        "tft": neural("tft"),
        "nhits": neural("nhits"),
    }
    return {n: table[n] for n in dict.fromkeys(names)}
