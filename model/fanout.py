"""Fan-out of independent work: a plain ``DataFrame → DataFrame`` function applied per group.

The same function runs

* in-process (``workers=1``),
* on a local process pool (``concurrent.futures.ProcessPoolExecutor``), or
* on Spark with ``groupBy(key).applyInPandas(fn, schema)`` — one task per group, Spark's adaptive
  partition coalescing disabled so groups are not collapsed onto one worker.

Results are concatenated and sorted by the key (and the function's own row order within a group), so all
three give identical frames for a deterministic ``fn``. ``fn`` must be a module-level function (picklable)
that derives any randomness from its group's data (e.g. a seed column), never from global state.
"""
from __future__ import annotations

import contextlib
import contextvars
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

GroupFn = Callable[[pd.DataFrame], pd.DataFrame]
ENGINES = ("local", "spark")
_ENGINE: contextvars.ContextVar[tuple[str, object] | None] = contextvars.ContextVar("fanout_engine", default=None)


@contextlib.contextmanager
def use_engine(engine: str, spark=None) -> Iterator[None]:
    """Within the block, :func:`map_groups` calls that name no engine use ``engine`` (and ``spark``)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be 'local' or 'spark', got {engine!r}")
    if engine == "spark" and spark is None:
        raise ValueError("engine 'spark' needs a SparkSession (model.ssot.engine.spark_session)")
    token = _ENGINE.set((engine, spark))
    try:
        yield
    finally:
        _ENGINE.reset(token)


def current_engine() -> tuple[str, object]:
    """``(engine, spark)`` that a :func:`map_groups` call without an engine uses: the :func:`use_engine`
    context's, else ``("local", None)``."""
    return _ENGINE.get() or ("local", None)


def _groups(df: pd.DataFrame, by: list[str]) -> list[pd.DataFrame]:
    return [g.reset_index(drop=True) for _, g in df.groupby(by, sort=True)]


def _finish(parts: list[pd.DataFrame], by: list[str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    sort = [c for c in by if c in out.columns]
    return out.sort_values(sort, kind="stable").reset_index(drop=True) if sort else out


def map_groups(df: pd.DataFrame, by: str | list[str], fn: GroupFn, engine: str | None = None, workers: int = 1,
               spark=None, chunk_groups: int = 1) -> pd.DataFrame:
    """Apply ``fn`` to each group of ``df`` by ``by``; ``engine`` is ``local`` or ``spark`` (``None``: the
    :func:`use_engine` context's, else ``local``; a context's SparkSession is used when ``spark`` is None)."""
    by = [by] if isinstance(by, str) else list(by)
    if engine is None:
        engine, ctx_spark = current_engine()
        spark = spark if spark is not None else ctx_spark
    if engine == "spark":
        return _spark(df, by, fn, spark)
    if engine != "local":
        raise ValueError(f"engine must be 'local' or 'spark', got {engine!r}")
    groups = _groups(df, by)
    if workers <= 1 or len(groups) <= 1:
        return _finish([fn(g) for g in groups], by)
    with ProcessPoolExecutor(max_workers=workers) as ex:
        parts = list(ex.map(fn, groups, chunksize=max(1, chunk_groups)))
    return _finish(parts, by)


def _spark_type(dtype) -> str:
    k = pd.api.types
    if k.is_bool_dtype(dtype):
        return "boolean"
    if k.is_integer_dtype(dtype):
        return "bigint"
    if k.is_float_dtype(dtype):
        return "double"
    if k.is_datetime64_any_dtype(dtype):
        return "timestamp"
    return "string"


def _spark(df: pd.DataFrame, by: list[str], fn: GroupFn, spark) -> pd.DataFrame:
    if spark is None:
        raise ValueError("engine 'spark' needs a SparkSession (model.ssot.engine.spark_session)")
    groups = _groups(df, by)
    if not groups:
        return pd.DataFrame()
    probe = fn(groups[0])  # the output schema, from the first group (cheap, deterministic)
    schema = ", ".join(f"`{c}` {_spark_type(t)}" for c, t in probe.dtypes.items())
    sdf = spark.createDataFrame(df).repartition(max(1, len(groups)), *by)
    with warnings.catch_warnings():  # a functools.partial has no type hints to infer from: harmless
        warnings.filterwarnings("ignore", "Cannot infer the eval type", UserWarning)
        out = sdf.groupBy(*by).applyInPandas(fn, schema=schema).toPandas()
    for c, t in probe.dtypes.items():  # Arrow round-trip: restore the exact pandas dtypes
        if str(out[c].dtype) != str(t):
            out[c] = out[c].astype(t)
    return _finish([out], by)
