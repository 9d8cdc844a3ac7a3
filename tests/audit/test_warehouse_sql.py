"""BigQuery, Snowflake and Databricks are not run in CI: the count-table SQL Ibis compiles for them is checked.

The files in golden_sql/ are the SQL those warehouses receive. A difference means Ibis (or the query) changed:
read it, and regenerate with GOVERNANCE_TEST_UPDATE_GOLDEN_SQL=1 if it is still one GROUP BY with the same columns.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from governance.intake.engine import count_table_sql

GOLDEN = Path(__file__).parent / "golden_sql"
SCHEMA = {"sex": "string", "race": "string", "performed": "int64", "hired": "int64", "w": "float64"}
DIALECTS = ["bigquery", "snowflake", "databricks", "postgres", "duckdb"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_count_table_query_compiles_to_the_golden_sql(dialect: str) -> None:
    sql = count_table_sql("hr.decisions", SCHEMA, ["sex", "race", "performed", "hired"], "w", dialect) + "\n"
    path = GOLDEN / f"{dialect}.sql"
    if os.environ.get("GOVERNANCE_TEST_UPDATE_GOLDEN_SQL"):
        path.write_text(sql, encoding="utf-8")
    assert sql == path.read_text(encoding="utf-8")
    assert "GROUP BY" in sql and "COUNT(*)" in sql and sql.count("SUM(") == 2
