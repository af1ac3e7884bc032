"""Shared fixtures: the real datasets in ../shared/data and throw-away stores."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SCALEPLAN_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def store(tmp_path):
    from model.ssot.store import open_store
    con = open_store(tmp_path / "ssot.duckdb")
    yield con
    con.close()
