"""Readers for the timestamped public histories the intraday profiles are learned from.

Each returns a plain Series (timestamps) or a (date, count) frame; errors name the file.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd


def _read(path: Path, **kw) -> pd.DataFrame:
    if not path.exists():
        raise ValueError(f"history file not found: {path}")
    return pd.read_csv(path, **kw)


def olist_purchase_timestamps(data_dir: Path) -> pd.Series:
    """Order purchase timestamps of the Olist sample (one per order)."""
    df = _read(Path(data_dir) / "olist_sample" / "olist_orders_dataset.csv",
               usecols=["order_purchase_timestamp"], parse_dates=["order_purchase_timestamp"])
    return df["order_purchase_timestamp"].dropna()


def bakery_receipt_timestamps(data_dir: Path) -> pd.Series:
    """One timestamp per receipt (transaction) of the Bread Basket bakery."""
    df = _read(Path(data_dir) / "bakery_breadbasket" / "BreadBasket_DMS.csv")
    first = df.groupby("Transaction")[["Date", "Time"]].first()
    return pd.to_datetime(first["Date"] + " " + first["Time"])


def favorita_daily_transactions(data_dir: Path) -> pd.DataFrame:
    """date, count: tickets per day summed over the Favorita stores."""
    df = _read(Path(data_dir) / "favorita_traffic" / "transactions.csv", parse_dates=["date"])
    return df.groupby("date", as_index=False)["transactions"].sum().rename(columns={"transactions": "count"})


def rossmann_daily_customers(data_dir: Path) -> pd.DataFrame:
    """date, count: customers per open day of Rossmann store 1."""
    df = _read(Path(data_dir) / "rossmann_store1" / "rossmann_store1_train.csv", parse_dates=["Date"],
               dtype={"StateHoliday": str})
    df = df[df["Open"] == 1]
    return pd.DataFrame({"date": df["Date"], "count": df["Customers"].astype(float)})
