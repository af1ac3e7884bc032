"""Probabilistic demand forecasting: one contract (contract.py), local models (baselines, stats,
intermittent), global models (boosting, neural), rolling-origin backtest, per-segment selection and
ensembles, quantile recalibration, demand preparation (censoring, outliers, cold start), the model cache,
and the pipeline behind ``run.py forecast`` (commands.py) and the study stage (stage.py)."""
