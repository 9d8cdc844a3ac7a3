"""Shared by the table-audit tests: one prediction log, written as CSV and into DuckDB, PostgreSQL or Spark."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

COMMON: dict[str, Any] = {"name": "vendor", "version": "1", "n_boot": 60, "write": False, "seed": 7}


def prediction_log(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    """Rows with two sensitive columns (one with gaps), labels, decisions, scores, weights and amounts."""
    rng = np.random.default_rng(seed)
    score = np.round(rng.random(n), 3)
    performed = (rng.random(n) < 0.3 + 0.4 * score).astype(int)
    amount = np.round(rng.normal(100, 20, n), 2)
    return pd.DataFrame(
        {
            "sex": rng.choice(np.array(["female", "male", None], dtype=object), size=n, p=[0.45, 0.5, 0.05]),
            "race": rng.choice(["a", "b", "c"], size=n),
            "hired": (score > 0.5).astype(int),
            "performed": performed,
            "score": score,
            "w": np.round(rng.uniform(0.5, 2.0, n), 3),
            "amount": amount,
            "estimate": np.round(amount + rng.normal(0, 10, n), 2),
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
        }
    )


def write_duckdb(frame: pd.DataFrame, path: Path, table: str = "log") -> str:
    """The frame as a table in a DuckDB file; returns its connection URL."""
    import duckdb

    con = duckdb.connect(str(path))
    con.register("frame", frame)
    con.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
    con.close()
    return f"duckdb://{path}"


def assert_same(left: Any, right: Any, path: str = "", tol: float = 1e-12) -> None:
    """Two dumped results equal, floats to ``tol`` (relative, or absolute near zero)."""
    if isinstance(left, dict) and isinstance(right, dict):
        assert left.keys() == right.keys(), f"{path}: {set(left) ^ set(right)}"
        for key in left:
            assert_same(left[key], right[key], f"{path}.{key}", tol)
    elif isinstance(left, list) and isinstance(right, list):
        assert len(left) == len(right), f"{path}: {len(left)} != {len(right)}"
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_same(a, b, f"{path}[{i}]", tol)
    elif isinstance(left, float) and isinstance(right, float):
        assert math.isclose(left, right, rel_tol=tol, abs_tol=tol), f"{path}: {left} != {right}"
    else:
        assert left == right, f"{path}: {left!r} != {right!r}"


# Runs the command line in this process, then writes which of the ``watched`` packages it loaded to argv[1].
WATCH_IMPORTS = """
import atexit, json, runpy, sys
path = sys.argv[1]
atexit.register(lambda: open(path, "w").write(json.dumps(sorted(m for m in {watched!r} if m in sys.modules))))
sys.argv = ["governance", *sys.argv[2:]]
runpy.run_module("governance", run_name="__main__")
"""
