"""Which engine runs the SSOT's derived tables: embedded DuckDB (default) or Spark.

The derived tables (:mod:`model.ssot.derived`) are Ibis expressions; this module hands them a backend.

* ``duckdb`` — the store file itself (nothing to install).
* ``spark``  — a SparkSession: ``local[N]`` in tests, a cluster master URL, or Spark Connect
  (``sc://host:15002``, e.g. Databricks). The canonical tables must be visible to Spark under their
  canonical names: on a cluster they are lakehouse tables (``spark_conf`` may set the default catalog /
  database); locally :func:`mirror_tables` copies them from the DuckDB store into temporary views.

Spark is an optional extra (``pip install 'scaleplan[spark]'``, Java 17+).
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import duckdb
import ibis

from model.ssot.schema import TABLES
from scenarios.schema.data import EngineConfig

SPARK_DEFAULT_CONF = {
    # keep one group per task: adaptive coalescing would collapse the fan-out onto one worker
    "spark.sql.adaptive.coalescePartitions.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
}


class EngineUnavailable(RuntimeError):
    pass


def spark_session(cfg: EngineConfig):
    """A SparkSession for ``cfg`` (``spark_master`` may be ``local[N]``, a master URL or ``sc://`` Connect)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable("engine 'spark' needs pyspark: pip install 'scaleplan[spark]' (and Java 17+)") from None
    conf = {**SPARK_DEFAULT_CONF, **cfg.spark_conf}
    if cfg.spark_master.startswith("sc://"):
        b = SparkSession.builder.remote(cfg.spark_master)
    else:
        b = SparkSession.builder.master(cfg.spark_master).appName("scaleplan")
        if cfg.spark_master.startswith("local"):  # local workers run this interpreter (with the project)
            conf.setdefault("spark.pyspark.python", sys.executable)
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # read by the SparkContext itself
    for k, v in conf.items():
        b = b.config(k, v)
    session = b.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def backend(cfg: EngineConfig, con: duckdb.DuckDBPyConnection | None = None, spark=None):
    """The Ibis backend the derived tables run on."""
    if cfg.kind == "duckdb":
        if con is None:
            raise ValueError("engine duckdb needs the store's connection")
        return ibis.duckdb.from_connection(con)
    spark = spark or spark_session(cfg)
    return ibis.pyspark.connect(spark)


def catalog_tables(spark) -> set[str]:
    """Names of the permanent tables in the Spark session's current database (temporary views excluded)."""
    return {t.name for t in spark.catalog.listTables() if not t.isTemporary}


def mirror_tables(con: duckdb.DuckDBPyConnection, spark, tables: tuple[str, ...] | None = None) -> list[str]:
    """Copy canonical tables from the DuckDB store into Spark temporary views (local mode / tests).

    The explicit Spark schema keeps the canonical types (DATE, TIMESTAMP, DOUBLE, BOOLEAN, VARCHAR)."""
    canonical = [n for n, t in TABLES.items() if t.kind in ("dimension", "fact")]
    names = list(tables) if tables is not None else canonical
    for name in names:
        pdf = con.sql(f"SELECT * FROM {name}").df()
        schema = _spark_schema(TABLES[name])
        spark.createDataFrame(pdf, schema=schema).createOrReplaceTempView(name)
    return names


_TYPE = {"VARCHAR": "string", "DOUBLE": "double", "INTEGER": "int", "BIGINT": "bigint", "BOOLEAN": "boolean",
         "DATE": "date", "TIMESTAMP": "timestamp", "JSON": "string"}


def _spark_schema(t) -> str:
    return ", ".join(f"`{c.name}` {_TYPE[c.type]}" for c in t.columns)


@contextlib.contextmanager
def engine_scope(cfg: EngineConfig, con: duckdb.DuckDBPyConnection, spark=None) -> Iterator[dict]:
    """Run the block on ``cfg``'s engine without any change in the code inside it.

    ``duckdb``: nothing changes. ``spark``: start (or reuse) the session; of the canonical tables the
    derived tables read (``derived.SOURCE_TABLES``), use those the Spark catalog holds (lakehouse tables
    of the current database) and copy the others from the store (:func:`mirror_tables`); route every
    derived table (:func:`model.ssot.derived.use_backend`) and every :func:`model.fanout.map_groups` call
    that names no engine (:func:`model.fanout.use_engine`) to Spark. Yields the engine's provenance:
    kind, master, Spark version, mirrored and catalog tables."""
    if cfg.kind == "duckdb":
        yield {"kind": "duckdb", "duckdb": duckdb.__version__}
        return
    from model import fanout
    from model.ssot import derived
    spark = spark or spark_session(cfg)
    catalog = catalog_tables(spark)
    tables = mirror_tables(con, spark, tuple(t for t in derived.SOURCE_TABLES if t not in catalog))
    info = {"kind": "spark", "spark_master": cfg.spark_master, "spark": spark.version, "mirrored_tables": tables,
            "catalog_tables": sorted(catalog & set(derived.SOURCE_TABLES))}
    with derived.use_backend(ibis.pyspark.connect(spark)), fanout.use_engine("spark", spark):
        yield info
