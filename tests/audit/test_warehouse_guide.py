"""docs/guide/warehouse.md runs: its DuckDB commands and Python example here, PostgreSQL and Spark beside them."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_support import write_duckdb
from guide_support import decisions, run_section, section_blocks


def test_the_guide_duckdb_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: Guide\n", encoding="utf-8")
    frame = decisions()
    frame.to_parquet(tmp_path / "decisions.parquet", index=False)
    write_duckdb(frame, tmp_path / "hr.duckdb", table="decisions")
    runs = run_section("DuckDB (built in)", tmp_path)
    assert len(runs) == 2
    (python,) = section_blocks("DuckDB (built in)", "python")
    exec(compile(python, "warehouse.md", "exec"), {})  # the Python example, as written
    assert len(list((tmp_path / "audits" / "vendor-screen" / "2026.1").iterdir())) == 3


def test_the_guide_is_in_the_site_navigation() -> None:
    mkdocs = (Path(__file__).resolve().parents[2] / "mkdocs.yml").read_text(encoding="utf-8")
    assert "Auditing a warehouse table: guide/warehouse.md" in mkdocs
