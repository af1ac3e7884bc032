"""One contract test over every forecaster: the long output table, quantile order, horizons, dates,
unknown demand tolerated, same seed → same numbers; and the validator catches broken tables."""
import numpy as np
import pandas as pd
import pytest

from model.forecast.baselines import Naive, SeasonalNaive
from model.forecast.boosting import GlobalBoosting
from model.forecast.contract import OUTPUT_COLUMNS, QCOLS, validate_forecast
from model.forecast.intermittent import TSB
from model.forecast.neural import NeuralForecaster, NeuralSettings
from model.forecast.stats import AutoETSForecaster
from tests.forecast_helpers import SPEC, panel, split

H = 4
TINY_NN = dict(epochs=1, batches_per_epoch=3, batch_size=32, encoder_length=8, hidden_size=8)
MODELS = {
    "naive": lambda: Naive(),
    "seasonal_naive": lambda: SeasonalNaive(),
    "ets": lambda: AutoETSForecaster(),
    "tsb": lambda: TSB(),
    "boosting": lambda: GlobalBoosting(H, max_iter=20, max_origins=20),
    "tft": lambda: NeuralForecaster(H, NeuralSettings(kind="tft", **TINY_NN)),
    "nhits": lambda: NeuralForecaster(H, NeuralSettings(kind="nhits", **TINY_NN)),
}


@pytest.fixture(scope="module")
def data():
    hist = panel(n_series=5, periods=70, seed=3)
    hist.loc[hist.index[[10, 11, 200]], "y"] = np.nan  # unknown demand (stock-outs)
    return split(hist, H)


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_honours_the_contract(name, data):
    train, test = data
    fc = MODELS[name]().fit(train, SPEC).predict(H, test.drop(columns="y"))
    validate_forecast(fc, H)
    assert list(fc.columns) == list(OUTPUT_COLUMNS)
    assert len(fc) == 5 * H and set(fc["horizon"]) == set(range(1, H + 1))
    assert (fc["model"] == MODELS[name]().name).all()
    expected = test[["series_id", "period_start"]].sort_values(["series_id", "period_start"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(fc[["series_id", "period_start"]], expected, check_dtype=False)
    q = fc[list(QCOLS)].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all() and (q >= 0).all()
    assert (q[:, -1] > q[:, 0]).mean() > 0.5  # intervals have width
    assert fc["mean"].between(0, 10 * train["y"].max()).all()


@pytest.mark.parametrize("name", ["boosting", "nhits"])
def test_same_seed_same_numbers(name, data):
    train, test = data
    a = MODELS[name]().fit(train, SPEC).predict(H, test.drop(columns="y"))
    b = MODELS[name]().fit(train, SPEC).predict(H, test.drop(columns="y"))
    pd.testing.assert_frame_equal(a, b)


def test_validator_names_the_problem(data):
    train, _ = data
    fc = Naive().fit(train, SPEC).predict(H)
    with pytest.raises(ValueError, match="cross"):
        validate_forecast(fc.assign(**{"q0.1": fc["q0.9"] + 1}))
    with pytest.raises(ValueError, match="lacks column"):
        validate_forecast(fc.drop(columns="q0.5"))
    with pytest.raises(ValueError, match="negative"):
        validate_forecast(fc.assign(mean=-1.0))
    with pytest.raises(ValueError, match="horizon"):
        validate_forecast(fc, h=H - 1)


def test_bad_history_is_rejected_with_the_row(data):
    train, _ = data
    with pytest.raises(ValueError, match="lacks column"):
        Naive().fit(train.drop(columns="price"), SPEC)
    with pytest.raises(ValueError, match=r"row \d+: y must be a number >= 0"):
        Naive().fit(train.assign(y=train["y"].where(train.index != 5, -3.0)), SPEC)
    with pytest.raises(ValueError, match="duplicate period"):
        Naive().fit(pd.concat([train, train.iloc[:1]]), SPEC)
