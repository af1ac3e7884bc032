"""Fitted forecasters cached on disk under a fingerprint of their training data and settings.

key = sha256(CACHE_VERSION, model name, the model's constructor settings, the FrameSpec, and a row hash of the training
frame). An unchanged re-run loads the fitted model instead of retraining; any change in data or
settings gives a new key. Files are pickles: only load caches this project wrote.
"""
from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pandas as pd

from model.forecast.contract import FrameSpec

CACHE_VERSION = 2  # bump when a model's fitting code changes, so old fits are not reused


def fingerprint(frame: pd.DataFrame, *settings) -> str:
    """Hash of a frame's rows (values and column names) plus a repr of each setting."""
    h = hashlib.sha256()
    h.update(repr(list(frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    for s in settings:
        h.update(repr(s).encode())
    return h.hexdigest()[:24]


def model_settings(model) -> dict:
    """Constructor settings of an unfitted model: its public attributes."""
    return {k: v for k, v in sorted(vars(model).items()) if not k.startswith("_") and not k.endswith("_")}


class ModelCache:
    """Directory of fitted models; ``root=None`` disables caching (every fit runs)."""

    def __init__(self, root: str | Path | None):
        self.root = Path(root) if root else None
        self.hits = self.misses = 0

    def fit(self, model, train: pd.DataFrame, spec: FrameSpec):
        """``model.fit(train, spec)``, or the cached result of the same fit."""
        if self.root is None:
            return model.fit(train, spec)
        key = fingerprint(train, CACHE_VERSION, type(model).__name__, model_settings(model), spec)
        path = self.root / f"{model.name}-{key}.pkl"
        if path.exists():
            self.hits += 1
            with path.open("rb") as f:
                return pickle.load(f)
        self.misses += 1
        fitted = model.fit(train, spec)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(fitted, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        return fitted
