"""pytorch-forecasting global models: Temporal Fusion Transformer and N-HiTS, trained with the quantile
(pinball) loss Σ_α ρ_α(y − q̂_α) over QUANTILES on every series at once.

Inputs per series i and period t: target y (units; NaN demand interpolated), static categoricals
(spec.static: category, location), known-future reals (spec.known: price, relative price, promotion
share, holidays; plus the calendar position of t), target normalised per series (GroupNormalizer,
softplus). The encoder sees ``encoder_length`` past periods; the decoder predicts H periods. mean = q_0.5.
Series shorter than encoder + H periods, which the dataset cannot window, get the seasonal-naive
forecast. Training runs on ONE torch thread, seeded inside fit (torch's global RNG is restored after).
"""
from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.forecast.baselines import SeasonalNaive
from model.forecast.contract import QUANTILES, FrameSpec, check_history, finalize, future_index
from model.forecast.prepare import fill_masked


@dataclass(frozen=True)
class NeuralSettings:
    kind: str = "tft"              # tft | nhits
    encoder_length: int = 24       # periods the encoder sees
    epochs: int = 8
    learning_rate: float = 0.01
    hidden_size: int = 16
    batch_size: int = 128
    batches_per_epoch: int = 30    # caps each epoch's work (CPU budget)
    dropout: float = 0.1
    seed: int = 0


def _calendar(dates: pd.Series, freq: str) -> np.ndarray:
    grain = pd.tseries.frequencies.to_offset(freq).rule_code[0]
    return (dates.dt.month if grain == "M" else dates.dt.isocalendar().week if grain == "W"
            else dates.dt.dayofweek).to_numpy(float)


@contextlib.contextmanager
def _one_quiet_thread():
    """torch on one thread, Lightning's info logging and the libraries' advisory warnings (dropped short
    series, checkpoint hints, deprecations) off for the block; all restored after. The planner-facing
    record of short series is the seasonal-naive fallback the forecast uses for them."""
    import torch
    threads, log = torch.get_num_threads(), logging.getLogger("lightning.pytorch")
    level = log.level
    torch.set_num_threads(1)
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        torch.set_num_threads(threads)
        log.setLevel(level)


class NeuralForecaster:
    """TFT or N-HiTS from pytorch-forecasting behind the forecaster contract."""

    def __init__(self, horizon: int, settings: NeuralSettings = NeuralSettings(), name: str | None = None):
        if settings.kind not in ("tft", "nhits"):
            raise ValueError(f"neural kind must be 'tft' or 'nhits', got {settings.kind!r}")
        self.horizon, self.settings, self.name = horizon, settings, name or settings.kind

    def _frame(self, df: pd.DataFrame) -> pd.DataFrame:
        idx = self.grid_.get_indexer(df["period_start"])
        out = df.assign(time_idx=idx, calendar=_calendar(df["period_start"], self.spec_.freq))
        for c in self.spec_.static:
            out[c] = out[c].astype(str)
        return out.astype({"y": float})

    def _dataset(self, data: pd.DataFrame):
        from pytorch_forecasting import TimeSeriesDataSet
        from pytorch_forecasting.data import GroupNormalizer
        s, enc = self.settings, self.settings.encoder_length
        return TimeSeriesDataSet(
            data, time_idx="time_idx", target="y", group_ids=["series_id"],
            max_encoder_length=enc, min_encoder_length=enc if s.kind == "nhits" else max(enc // 2, 1),
            max_prediction_length=self.horizon, min_prediction_length=self.horizon,
            static_categoricals=list(self.spec_.static),
            time_varying_known_reals=["calendar", *self.spec_.known],
            time_varying_unknown_reals=["y"],
            target_normalizer=GroupNormalizer(groups=["series_id"], transformation="softplus"),
            add_relative_time_idx=s.kind == "tft", add_target_scales=True, add_encoder_length=s.kind == "tft",
            allow_missing_timesteps=True)

    def _network(self, ds):
        from pytorch_forecasting import NHiTS, TemporalFusionTransformer
        from pytorch_forecasting.metrics import QuantileLoss
        s = self.settings
        loss = QuantileLoss(quantiles=list(QUANTILES))
        if s.kind == "tft":
            return TemporalFusionTransformer.from_dataset(
                ds, learning_rate=s.learning_rate, hidden_size=s.hidden_size, attention_head_size=1,
                dropout=s.dropout, hidden_continuous_size=max(s.hidden_size // 2, 4), loss=loss,
                log_interval=-1, reduce_on_plateau_patience=1000)
        return NHiTS.from_dataset(ds, learning_rate=s.learning_rate, hidden_size=4 * s.hidden_size,
                                  dropout=s.dropout, loss=loss, log_interval=-1, reduce_on_plateau_patience=1000)

    def fit(self, history: pd.DataFrame, spec: FrameSpec) -> "NeuralForecaster":
        import lightning.pytorch as pl
        import torch
        self.history_, self.spec_ = fill_masked(check_history(history, spec)), spec
        offset = pd.tseries.frequencies.to_offset(spec.freq)
        p = self.history_["period_start"]
        self.grid_ = pd.date_range(p.min(), p.max() + self.horizon * offset, freq=spec.freq)
        self.fallback_ = SeasonalNaive().fit(self.history_, spec)
        s = self.settings
        with _one_quiet_thread():
            with torch.random.fork_rng():
                torch.manual_seed(s.seed)
                ds = self._dataset(self._frame(self.history_))
                self.params_ = ds.get_parameters()
                self.net_ = self._network(ds)
                trainer = pl.Trainer(max_epochs=s.epochs, accelerator="cpu", devices=1, logger=False,
                                     enable_progress_bar=False, enable_checkpointing=False,
                                     enable_model_summary=False, gradient_clip_val=0.1,
                                     limit_train_batches=s.batches_per_epoch)
                loader = ds.to_dataloader(train=True, batch_size=s.batch_size, num_workers=0)
                trainer.fit(self.net_, train_dataloaders=loader)
        return self

    def __getstate__(self):
        state = dict(self.__dict__)
        if "net_" in state:
            state["net_state_"], state["net_"] = state["net_"].state_dict(), None
        return state

    def __setstate__(self, state):
        net_state = state.pop("net_state_", None)
        self.__dict__.update(state)
        if net_state is not None:
            from pytorch_forecasting import TimeSeriesDataSet
            ds = TimeSeriesDataSet.from_parameters(self.params_, self._frame(self.history_))
            self.net_ = self._network(ds)
            self.net_.load_state_dict(net_state)

    def _prediction_frame(self, h: int, future: pd.DataFrame | None) -> pd.DataFrame:
        idx = future_index(self.history_, h, self.spec_.freq)
        static = self.history_.groupby("series_id")[list(self.spec_.static)].first()
        last = self.history_.groupby("series_id")[list(self.spec_.known)].last()
        fut = idx.drop(columns="horizon").join(static, on="series_id")
        if future is not None and len(self.spec_.known):
            fut = fut.merge(future[["series_id", "period_start", *self.spec_.known]],
                            on=["series_id", "period_start"], how="left")
        for c in self.spec_.known:
            fut[c] = fut[c].fillna(fut["series_id"].map(last[c])) if c in fut else fut["series_id"].map(last[c])
        enc = self.history_.groupby("series_id").tail(self.settings.encoder_length)
        return pd.concat([enc, fut.assign(y=0.0)], ignore_index=True)

    def predict(self, h: int, future: pd.DataFrame | None = None) -> pd.DataFrame:
        from pytorch_forecasting import TimeSeriesDataSet
        if h > self.horizon:
            raise ValueError(f"{self.name} was trained for horizon {self.horizon}; cannot predict {h} periods")
        base = self.fallback_.predict(h)
        data = self._frame(self._prediction_frame(self.horizon, future))
        ds = TimeSeriesDataSet.from_parameters(self.params_, data, predict=True, stop_randomization=True)
        with _one_quiet_thread():
            out = self.net_.predict(ds, mode="quantiles", return_index=True, batch_size=256,
                                    trainer_kwargs=dict(logger=False, enable_progress_bar=False,
                                                        accelerator="cpu", enable_model_summary=False))
        q = out.output.detach().cpu().numpy()[:, :h, :]
        ids = out.index["series_id"].to_numpy()
        pos = {sid: j for j, sid in enumerate(ids)}
        rows = base["series_id"].map(pos)
        have = rows.notna().to_numpy()
        quant = base[[f"q{a:g}" for a in QUANTILES]].to_numpy(float)
        r = rows[have].astype(int).to_numpy()
        quant[have] = q[r, base["horizon"].to_numpy()[have] - 1, :]
        mean = np.where(have, quant[:, len(QUANTILES) // 2], base["mean"].to_numpy(float))
        return finalize(base, mean, quant, self.name)
