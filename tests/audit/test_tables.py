"""Audits of a table where it lives (DuckDB, embedded): the same numbers as the file, only aggregates read.

PostgreSQL and Spark run the same checks in test_tables_postgres.py and test_tables_spark.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from engine_support import COMMON, assert_same, prediction_log, write_duckdb

from governance.audit.run import audit
from governance.audit.tables import refingerprint
from governance.cli.main import cli
from governance.errors import InputError
from governance.intake.engine import redact_text, redact_url
from governance.intake.model_files import save_model
from governance.workspace import Workspace

MODES: dict[str, dict[str, Any]] = {
    "counts with weights": {"predictions": "hired", "target": "performed", "weights": "w"},
    "scores for AUC": {"predictions": "hired", "target": "performed", "scores": "score"},
    "scores with a threshold": {
        "predictions": "hired",
        "target": "performed",
        "scores": "score",
        "threshold": 0.4,
    },
    "amounts (regression)": {"predictions": "estimate", "target": "amount", "policy": "regression"},
    "decisions only": {"predictions": "hired"},
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("tables")
    frame = prediction_log()
    csv = folder / "log.csv"
    frame.to_csv(csv, index=False)
    from sklearn.linear_model import LogisticRegression

    save_model(LogisticRegression().fit(frame[["x1", "x2"]], frame["performed"]), folder / "model.skops")
    return {
        "frame": frame,
        "csv": csv,
        "url": write_duckdb(frame, folder / "log.duckdb"),
        "model": folder / "model.skops",
        "folder": folder,
    }


@pytest.mark.parametrize("mode", list(MODES))
def test_table_audit_equals_the_file_audit(stored: dict[str, Any], tmp_path: Path, mode: str) -> None:
    options = {**COMMON, **MODES[mode], "sensitive": ["sex", "race"], "workspace": Workspace(root=tmp_path)}
    from_file = audit(data=stored["csv"], **options).result
    from_table = audit(table="log", connection=stored["url"], **options).result
    assert_same(from_file.fairness.model_dump(), from_table.fairness.model_dump())
    assert from_table.policy.verdict == from_file.policy.verdict
    info = from_table.data.table
    assert info is not None and info.backend == "duckdb" and info.table == "log"
    assert info.n_rows == from_table.data.n_rows == 3000 and from_table.data.sha256 == info.fingerprint


def test_a_model_scored_in_batches_equals_the_file_audit(stored: dict[str, Any], tmp_path: Path) -> None:
    options = {
        **COMMON,
        "model": stored["model"],
        "target": "performed",
        "sensitive": ["sex", "race"],
        "features": ["x1", "x2"],
        "explain_budget": 5.0,
        "explain_rows": 300,
        "workspace": Workspace(root=tmp_path),
    }
    from_file = audit(data=stored["csv"], **options).result
    from_table = audit(table="log", connection=stored["url"], **options).result
    assert_same(from_file.fairness.model_dump(), from_table.fairness.model_dump())
    info = from_table.data.table
    assert info is not None and info.explain_sample_seed == 7
    assert info.explain_sample_rows is not None and 290 <= info.explain_sample_rows <= 310
    assert from_table.explanation is not None and from_table.data.features == ["x1", "x2"]


def test_a_query_audits_its_rows(stored: dict[str, Any], tmp_path: Path) -> None:
    frame: pd.DataFrame = stored["frame"]
    csv = tmp_path / "subset.csv"
    frame[frame["race"] != "c"].to_csv(csv, index=False)
    options = {
        **COMMON,
        **MODES["counts with weights"],
        "sensitive": ["sex"],
        "workspace": Workspace(root=tmp_path),
    }
    query = "SELECT * FROM log WHERE race <> 'c'"
    from_table = audit(query=query, connection=stored["url"], **options).result
    assert_same(audit(data=csv, **options).result.fairness.model_dump(), from_table.fairness.model_dump())
    assert from_table.data.table is not None and from_table.data.table.query == query


def test_the_default_connection_reads_files_through_duckdb(stored: dict[str, Any], tmp_path: Path) -> None:
    options = {
        **COMMON,
        **MODES["decisions only"],
        "sensitive": ["sex"],
        "workspace": Workspace(root=tmp_path),
    }
    result = audit(query=f"SELECT * FROM read_csv('{stored['csv']}')", **options).result
    assert_same(
        audit(data=stored["csv"], **options).result.fairness.model_dump(), result.fairness.model_dump()
    )


def test_the_fingerprint_is_recomputed_and_changes_with_the_rows(
    stored: dict[str, Any], tmp_path: Path
) -> None:
    options = {
        **COMMON,
        **MODES["counts with weights"],
        "sensitive": ["sex"],
        "workspace": Workspace(root=tmp_path),
    }
    url = write_duckdb(stored["frame"], tmp_path / "copy.duckdb")
    info = audit(table="log", connection=url, **options).result.data.table
    assert info is not None and refingerprint(info, url) == info.fingerprint
    import duckdb

    con = duckdb.connect(str(tmp_path / "copy.duckdb"))
    con.execute("UPDATE log SET hired = 1 - hired WHERE rowid = 17")
    con.close()
    assert refingerprint(info, url) != info.fingerprint


def test_the_cli_audits_a_table_and_records_where_it_lives(
    stored: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    args = ["audit", "vendor@1", "--no-register", "--workspace", str(tmp_path), "--table", "log"]
    args += ["--connection", stored["url"], "--predictions", "hired", "--target", "performed"]
    args += ["--sensitive", "sex", "--n-boot", "50", "--no-figures", "--json", str(tmp_path / "a.json")]
    monkeypatch.setattr("sys.argv", ["governance", *args])
    run = CliRunner().invoke(cli, args)
    assert run.exit_code in (0, 1, 3), run.output
    result = json.loads((tmp_path / "a.json").read_text())
    assert result["data"]["path"] == "DuckDB: log"
    assert result["data"]["table"]["backend"] == "duckdb"
    assert "--table log" in result["provenance"]["command_line"]
    report = next((tmp_path / "audits" / "vendor" / "1").glob("*/report.md")).read_text()
    assert "DuckDB: log" in report


def test_redaction_removes_passwords_and_secret_parameters() -> None:
    assert (
        redact_url("postgresql+psycopg://ana:s3cret@db:5432/hr") == "postgresql+psycopg://ana:***@db:5432/hr"
    )
    assert redact_url("postgresql://ana@db/hr?sslmode=require&password=x") == (
        "postgresql://ana@db/hr?sslmode=require&password=***"
    )
    line = "governance audit m@1 --connection postgresql://ana:s3cret@db/hr --table t"
    assert "s3cret" not in redact_text(line, "postgresql://ana:s3cret@db/hr")
    assert redact_url("spark://local[2]") == "spark://local[2]"


def _cli_error(tmp_path: Path, *args: str) -> tuple[int, str]:
    base = [
        "audit",
        "vendor@1",
        "--no-register",
        "--workspace",
        str(tmp_path),
        "--output",
        str(tmp_path / "out"),
    ]
    run = CliRunner().invoke(cli, [*base, "--sensitive", "sex", *args])
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir()), "something was written"
    return run.exit_code, run.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--table", "logs", "--predictions", "hired"], r"names a table that does not exist in DuckDB"),
        (["--table", "log", "--predictions", "hire"], r"There is no column 'hire' in log \(DuckDB\)"),
        (
            ["--table", "log", "--predictions", "hired", "--weights", "sex"],
            r"'sex' of log \(DuckDB\) holds string",
        ),
        (
            ["--query", "SELEC * FROM log", "--predictions", "hired"],
            r"DuckDB could not run the query given with",
        ),
        (["--table", "log", "--predictions", "hired", "--data", "x.csv"], r"either --data FILE or --table"),
        (
            ["--table", "log", "--predictions", "hired", "--query-timeout", "5"],
            r"--query-timeout works with PostgreSQL",
        ),
    ],
)
def test_bad_table_input_is_one_sentence_and_exit_2(
    stored: dict[str, Any], tmp_path: Path, args: list[str], expected: str
) -> None:
    import re

    code, output = _cli_error(tmp_path, "--connection", stored["url"], *args)
    assert code == 2, output
    assert re.search(expected, output), output
    assert "Traceback" not in output and output.count("\n") == 1


def test_an_unknown_connection_and_a_missing_database_are_refused(tmp_path: Path) -> None:
    code, output = _cli_error(
        tmp_path, "--connection", "mysql://u:pw@h/db", "--table", "t", "--predictions", "p"
    )
    assert code == 2 and "mysql://u:***@h/db is not one governance can open" in output and "pw@" not in output
    with pytest.raises(InputError, match=r"DuckDB database .* could not be opened"):
        audit(name="m", version="1", table="t", connection=f"duckdb://{tmp_path}/none/x.db", predictions="p",
              sensitive=["s"], workspace=Workspace(root=tmp_path), write=False)  # fmt: skip


def test_a_refused_model_exits_4_before_the_table_is_read(stored: dict[str, Any], tmp_path: Path) -> None:
    import pickle

    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps({"not": "a model"}))
    code, output = _cli_error(
        tmp_path, "--connection", stored["url"], "--table", "log", "--model", str(pickled)
    )
    assert code == 4, output


def test_register_verify_refingerprints_a_recorded_table_audit(
    stored: dict[str, Any], tmp_path: Path
) -> None:
    import duckdb

    root = tmp_path / "ws"
    root.mkdir()
    (root / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    url = write_duckdb(stored["frame"], tmp_path / "copy.duckdb")
    runner = CliRunner()
    workspace = ["--workspace", str(root)]
    added = runner.invoke(cli, ["register", "add", "m", *workspace, "--actor", "ds@x", "--owner", "o@x",
                                "--purpose", "p", "--version", "1", "--model", str(stored["model"])])  # fmt: skip
    assert added.exit_code == 0, added.output
    audited = runner.invoke(cli, ["audit", "m@1", *workspace, "--actor", "a@x", "--table", "log", "--connection", url,
                                  "--predictions", "hired", "--sensitive", "sex", "--n-boot", "20", "--no-figures"])  # fmt: skip
    assert audited.exit_code in (0, 1, 3), audited.output
    verify = ["register", "verify", *workspace, "--refingerprint", "m@1", "--connection", url]
    same = runner.invoke(cli, verify)
    assert same.exit_code == 0 and "Unchanged: DuckDB: log still has the fingerprint" in same.output, (
        same.output
    )
    con = duckdb.connect(str(tmp_path / "copy.duckdb"))
    con.execute("DELETE FROM log WHERE rowid < 5")
    con.close()
    changed = runner.invoke(cli, verify)
    assert changed.exit_code == 1 and "CHANGED: DuckDB: log no longer has the fingerprint" in changed.output
    files_only = runner.invoke(
        cli, ["register", "verify", *workspace, "--refingerprint", "m@2", "--connection", url]
    )
    assert files_only.exit_code == 2


def test_explain_reads_a_stratified_sample_of_a_table(stored: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "explanation"
    args = ["explain", "--model", str(stored["model"]), "--table", "log", "--connection", stored["url"],
            "--sensitive", "sex", "--features", "x1", "--features", "x2", "--explain-rows", "200",
            "--explain-budget", "5", "--output", str(out)]  # fmt: skip
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    result = json.loads((out / "explanation.json").read_text())
    assert result["rows_total"] <= 205 and result["rows_explained"] >= 1


def test_the_command_line_starts_without_loading_an_engine() -> None:
    import subprocess
    import sys

    code = "import sys; import governance.cli.main; print(sorted(m for m in ('ibis', 'duckdb', 'pyspark') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_large_csv_is_counted_by_duckdb_with_the_numbers_pandas_gives(
    stored: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance.audit import tables

    frame = stored["frame"].copy()
    frame["region"] = ["NA", "north", "", "south"] * (len(frame) // 4)  # pandas reads "NA" and "" as missing
    csv = tmp_path / "log.csv"
    frame.to_csv(csv, index=False)
    options = {
        **COMMON,
        **MODES["counts with weights"],
        "sensitive": ["sex", "region"],
        "workspace": Workspace(root=tmp_path),
    }
    by_pandas = audit(data=csv, **options).result
    monkeypatch.setattr(tables, "CSV_THROUGH_DUCKDB_BYTES", 0)
    assert tables.file_query(csv) is not None
    by_duckdb = audit(data=csv, **options).result
    assert_same(by_pandas.fairness.model_dump(), by_duckdb.fairness.model_dump())
    assert by_duckdb.data.sha256 == by_pandas.data.sha256 and by_duckdb.data.table is None


@pytest.mark.parametrize(
    "mode",
    [
        {"predictions": "estimate", "target": "amount", "policy": "regression"},
        {"predictions": "hired", "target": "performed", "scores": "score"},
        {"predictions": "hired", "target": "performed", "weights": "w"},
    ],
    ids=["amounts", "scores", "weights"],
)
def test_decimal_columns_audit_as_the_file_does(
    stored: dict[str, Any], tmp_path: Path, mode: dict[str, Any]
) -> None:
    """DECIMAL money and codes come back as Python decimals: they are numbers, as in the file."""
    import duckdb

    database = tmp_path / "money.duckdb"
    con = duckdb.connect(str(database))
    con.register("frame", stored["frame"])
    con.execute(
        "CREATE TABLE money AS SELECT sex, race, CAST(hired AS DECIMAL(1, 0)) AS hired, "
        "CAST(performed AS DECIMAL(1, 0)) AS performed, CAST(score AS DECIMAL(6, 3)) AS score, "
        "CAST(w AS DECIMAL(6, 3)) AS w, CAST(amount AS DECIMAL(12, 2)) AS amount, "
        "CAST(estimate AS DECIMAL(12, 2)) AS estimate FROM frame"
    )
    con.close()
    options = {**COMMON, **mode, "sensitive": ["sex", "race"], "workspace": Workspace(root=tmp_path)}
    from_file = audit(data=stored["csv"], **options).result
    from_table = audit(table="money", connection=f"duckdb://{database}", **options).result
    assert_same(from_file.fairness.model_dump(), from_table.fairness.model_dump())


def test_whole_decimals_with_a_scale_are_labels_as_in_the_file(
    stored: dict[str, Any], tmp_path: Path
) -> None:
    """DECIMAL(18, 3) 0/1 codes (DuckDB's NUMERIC) read in Arrow batches are whole numbers, as the grouped path and
    the file give them (before: 1.0, and the result's positive label was '1.0' where the file's is '1')."""
    import duckdb

    database = tmp_path / "codes.duckdb"
    con = duckdb.connect(str(database))
    con.register("frame", stored["frame"])
    con.execute(
        "CREATE TABLE codes AS SELECT sex, race, CAST(hired AS NUMERIC) AS hired, "
        "CAST(performed AS NUMERIC) AS performed, CAST(score AS NUMERIC) AS score FROM frame"
    )
    con.close()
    options = {**COMMON, "predictions": "hired", "target": "performed", "scores": "score",
               "sensitive": ["sex", "race"], "workspace": Workspace(root=tmp_path)}  # fmt: skip
    from_file = audit(data=stored["csv"], **options).result
    from_table = audit(table="codes", connection=f"duckdb://{database}", **options).result
    assert_same(from_file.fairness.model_dump(), from_table.fairness.model_dump())


def test_arrow_decimals_become_int_when_whole_and_float_otherwise() -> None:
    """Whole values (any scale, within int64) as int64, as ``plain`` gives them; fractions, or beyond int64, as
    float64."""
    from decimal import Decimal

    import pyarrow as pa

    from governance.intake.values import without_decimals

    columns = {
        "codes": pa.array([Decimal("1.000"), None, Decimal("-0.000")], pa.decimal128(18, 3)),
        "money": pa.array([Decimal("1.000"), None, Decimal("2.500")], pa.decimal128(18, 3)),
        "wide": pa.array([Decimal(2**62 + 1), Decimal(3), Decimal(1)], pa.decimal128(38, 0)),
        "huge": pa.array([Decimal(10**30), None, Decimal(1)], pa.decimal128(38, 0)),
        "long": pa.array([Decimal(5), None, Decimal(1)], pa.decimal256(60, 0)),
    }
    frame = without_decimals(pa.RecordBatch.from_pydict(columns)).to_pandas()
    assert (
        frame["codes"].tolist()[::2] == [1, 0] and frame["codes"].dtype == "float64"
    )  # NULL: as pandas reads
    assert frame["money"].tolist()[::2] == [1.0, 2.5]
    assert frame["wide"].tolist()[0] == 2**62 + 1
    assert frame["huge"].tolist()[0] == 1e30 and frame["long"].tolist()[::2] == [5, 1]
    whole = without_decimals(pa.RecordBatch.from_pydict({"c": columns["codes"].fill_null(0)})).to_pandas()
    assert whole["c"].dtype == "int64"


@pytest.mark.parametrize("bad", ["nan", "inf"])
@pytest.mark.parametrize("model", [False, True], ids=["saved", "model"])
def test_weights_that_are_not_finite_are_refused_as_in_the_file(
    stored: dict[str, Any], tmp_path: Path, bad: str, model: bool
) -> None:
    """A NaN or infinite weight (a DOUBLE or NUMERIC column may hold them) is refused in one sentence (before: a
    NaN weight failed inside the fairness computation with 'max() arg is an empty sequence', and an infinite
    one was audited)."""
    import duckdb

    database = tmp_path / "weights.duckdb"
    con = duckdb.connect(str(database))
    con.register("frame", stored["frame"])
    con.execute(
        f"CREATE TABLE log AS SELECT * REPLACE (CASE WHEN x1 > 1.5 THEN '{bad}'::DOUBLE ELSE w END AS w) FROM frame"
    )
    con.close()
    mode = (
        {"model": stored["model"], "features": ["x1", "x2"], "explain": False}
        if model
        else {"predictions": "hired"}
    )
    options = {**COMMON, **mode, "target": "performed", "weights": "w", "sensitive": ["sex"],
               "workspace": Workspace(root=tmp_path)}  # fmt: skip
    with pytest.raises(InputError, match="weights column 'w' must hold"):
        audit(table="log", connection=f"duckdb://{database}", **options)


@pytest.mark.parametrize("quiet", [[], ["--quiet"]], ids=["log", "quiet"])
def test_the_cli_counts_a_table_for_its_bar_only_when_a_bar_is_shown(
    stored: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiet: list[str]
) -> None:
    """Counting the rows is a pass over the table (a whole query on a server) made only for the bar: in a CI log
    or with --quiet no bar is drawn, so no count is sent (before: it was, bar or not)."""
    from governance.intake.sql_source import SqlSource

    counted: list[int] = []
    real_count = SqlSource.row_count

    def row_count(self: SqlSource) -> int:
        counted.append(real_count(self))
        return counted[-1]

    monkeypatch.setattr(SqlSource, "row_count", row_count)
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    args = ["audit", "vendor@1", "--no-register", "--workspace", str(tmp_path), "--table", "log", *quiet]
    args += ["--connection", stored["url"], "--model", str(stored["model"]), "--target", "performed"]
    args += ["--sensitive", "sex", "--features", "x1", "--features", "x2", "--n-boot", "20", "--no-figures"]
    run = CliRunner().invoke(cli, [*args, "--no-explain"])
    assert run.exit_code in (0, 1, 3), run.output
    assert counted == []


def test_a_fingerprint_recorded_before_decimals_became_numbers_still_matches(tmp_path: Path) -> None:
    """An audit recorded before DECIMAL values became plain numbers spelled a DECIMAL(6, 2) group as '0.50' in
    its fingerprint, now 0.5: ``register verify --refingerprint`` must not call those unchanged rows changed
    (before: 'CHANGED ... the rows it judged were changed since', exit 1). The fingerprint below was recorded
    by that version (commit 6cfa096) for this table."""
    import duckdb

    from governance.results.audit import TableInfo

    database = tmp_path / "codes.duckdb"
    con = duckdb.connect(str(database))
    con.execute(
        "CREATE TABLE t AS SELECT CASE WHEN i % 3 = 0 THEN 'f' ELSE 'm' END AS sex, "
        "CAST((i % 4) / 2 AS DECIMAL(6, 2)) AS code, (i % 2) AS hired, ((i * 7) % 5 > 1)::INT AS performed, "
        "CAST(0.5 + (i % 7) / 4 AS DECIMAL(8, 3)) AS w FROM range(400) r(i)"
    )
    con.close()
    url = f"duckdb://{database}"
    recorded = TableInfo(
        backend="duckdb", connection=url, table="t", query=None, n_rows=400,
        fingerprint="6d87bd940e592cbdc8327fe3a0ca82553708a2d1d8effe780a13191d46d62036",
        fingerprint_method="", fingerprint_keys=["sex", "code", "performed", "hired"], fingerprint_numeric=["w"],
        fingerprint_weights="w", queried_at="2026-11-30T03:00:00Z",
    )  # fmt: skip
    assert refingerprint(recorded, url) == recorded.fingerprint
    options = {**COMMON, "predictions": "hired", "target": "performed", "weights": "w",
               "sensitive": ["sex", "code"], "workspace": Workspace(root=tmp_path)}  # fmt: skip
    now = audit(table="t", connection=url, **options).result.data.table
    assert now is not None and refingerprint(now, url) == now.fingerprint
    con = duckdb.connect(str(database))
    con.execute("UPDATE t SET code = 1.5 WHERE sex = 'f' AND code = 0.5")
    con.close()
    assert refingerprint(recorded, url) != recorded.fingerprint and refingerprint(now, url) != now.fingerprint


@pytest.mark.parametrize("label", ["1", "1.000"])
@pytest.mark.parametrize("source", ["file", "numeric table"])
def test_the_cli_positive_label_names_a_number_label_in_text(
    stored: dict[str, Any], tmp_path: Path, label: str, source: str
) -> None:
    """--positive-label is text on a command line: '1' (and '1.000', as a NUMERIC(12, 3) label was once shown)
    names the label 1 (before: "positive_label '1' is not one of the labels (0, 1)", exit 2)."""
    import duckdb

    database = tmp_path / "codes.duckdb"
    con = duckdb.connect(str(database))
    con.register("frame", stored["frame"])
    con.execute(
        "CREATE TABLE codes AS SELECT race, CAST(hired AS NUMERIC(12, 3)) AS hired, "
        "CAST(performed AS NUMERIC(12, 3)) AS performed FROM frame"
    )
    con.close()
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    where = (
        ["--data", str(stored["csv"])]
        if source == "file"
        else ["--table", "codes", "--connection", f"duckdb://{database}"]
    )
    args = ["audit", "vendor@1", "--no-register", "--workspace", str(tmp_path), *where, "--predictions", "hired",
            "--target", "performed", "--sensitive", "race", "--positive-label", label, "--n-boot", "20",
            "--no-figures", "--json", str(tmp_path / "a.json")]  # fmt: skip
    run = CliRunner().invoke(cli, args)
    assert run.exit_code in (0, 1, 3), run.output
    shown = json.loads((tmp_path / "a.json").read_text())["fairness"]["attributes"][0]["groups"]
    options = {**COMMON, "predictions": "hired", "target": "performed", "sensitive": ["race"], "positive_label": 1,
               "workspace": Workspace(root=tmp_path)}  # fmt: skip
    exact = audit(data=stored["csv"], **options).result.fairness.model_dump(mode="json")["attributes"][0][
        "groups"
    ]
    assert [g["metrics"]["selection_rate"] for g in shown] == [g["metrics"]["selection_rate"] for g in exact]
