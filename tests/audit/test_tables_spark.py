"""Table audits on Spark in local mode (one JVM for the module): the same numbers as the file and as DuckDB."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from engine_support import COMMON, assert_same, prediction_log
from guide_support import decisions, run_section

from governance.audit.run import audit
from governance.audit.tables import refingerprint
from governance.cli.main import cli
from governance.intake.model_files import save_model
from governance.workspace import Workspace

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A local Spark session with the prediction log as a view and as a Parquet file."""
    if shutil.which("java") is None:
        pytest.skip(
            "Spark needs a Java runtime: bash scripts/test.sh installs one as root (default-jre-headless)"
        )
    pyspark_sql = pytest.importorskip("pyspark.sql")
    folder = tmp_path_factory.mktemp("spark")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers need this environment's packages
    # PySpark installs its own Ctrl-C handler, which fails once the session is stopped ('NoneType' object has no
    # attribute 'sc'): the tests after these would see that instead of KeyboardInterrupt.
    ctrl_c = signal.getsignal(signal.SIGINT)
    session = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .appName("governance-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.warehouse.dir", str(folder / "warehouse"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    frame = prediction_log()
    frame.to_parquet(folder / "log.parquet", index=False)
    session.read.parquet(str(folder / "log.parquet")).createOrReplaceTempView("log")
    csv = folder / "log.csv"
    frame.to_csv(csv, index=False)
    try:
        yield {"session": session, "csv": csv, "frame": frame, "parquet": folder / "log.parquet"}
    finally:
        session.stop()
        signal.signal(signal.SIGINT, ctrl_c)


@pytest.mark.parametrize(
    "mode",
    [
        {"predictions": "hired", "target": "performed", "weights": "w"},
        {"predictions": "hired", "target": "performed", "scores": "score"},
    ],
)
def test_spark_table_audit_equals_the_file_audit(
    spark: dict[str, Any], tmp_path: Path, mode: dict[str, Any]
) -> None:
    options = {**COMMON, **mode, "sensitive": ["sex", "race"], "workspace": Workspace(root=tmp_path)}
    from_table = audit(table="log", connection="spark://local[1]", **options).result
    assert_same(
        audit(data=spark["csv"], **options).result.fairness.model_dump(), from_table.fairness.model_dump()
    )
    info = from_table.data.table
    assert info is not None and info.backend == "pyspark" and info.n_rows == 3000
    assert refingerprint(info, "spark://local[1]") == info.fingerprint


def test_spark_model_audit_runs_the_model_on_the_workers(spark: dict[str, Any], tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    frame = spark["frame"]
    model = tmp_path / "m.skops"
    save_model(LogisticRegression().fit(frame[["x1", "x2"]], frame["performed"]), model)
    options = {**COMMON, "model": model, "target": "performed", "sensitive": ["sex"], "features": ["x1", "x2"],
               "explain": False, "workspace": Workspace(root=tmp_path)}  # fmt: skip
    from_table = audit(table="log", connection="spark://local[1]", **options).result
    assert_same(
        audit(data=spark["csv"], **options).result.fairness.model_dump(), from_table.fairness.model_dump()
    )


def test_spark_cli_reads_a_parquet_file_by_query_and_names_a_missing_table(
    spark: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    base = ["audit", "vendor@1", "--no-register", "--workspace", str(tmp_path), "--connection", "spark://local[1]",
            "--predictions", "hired", "--sensitive", "sex", "--n-boot", "20", "--no-figures"]  # fmt: skip
    run = CliRunner().invoke(cli, [*base, "--query", f"SELECT * FROM parquet.`{spark['parquet']}`"])
    assert run.exit_code in (0, 1, 3), run.output
    run = CliRunner().invoke(cli, [*base, "--table", "decisions"])
    assert (
        run.exit_code == 2 and "names a table that does not exist in Spark at spark://local[1]" in run.output
    )
    assert run.output.count("\n") == 1


def test_the_guide_spark_example_runs(
    spark: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: Guide\n", encoding="utf-8")
    decisions().to_parquet(tmp_path / "decisions.parquet", index=False)
    # The JVM keeps the folder it started in, so the file is named by its full path.
    (run,) = run_section("Spark", tmp_path, {"decisions.parquet": str(tmp_path / "decisions.parquet")})
    assert "Report:" in run.output


def test_spark_draws_the_explanations_sample_itself(
    spark: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`explain` of a Spark table: the stratified sample is drawn in Spark; the rows never reach the driver."""
    from sklearn.linear_model import LogisticRegression

    from governance.audit import tables
    from governance.intake import engine

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the table's rows were streamed to the driver to be sampled")

    monkeypatch.setattr(engine.TableSource, "batches", refuse)
    frame = spark["frame"]
    model = LogisticRegression().fit(frame[["x1", "x2"]], frame["performed"])
    request = tables.TableRequest(
        connection="spark://local[1]", table="log", query=None, sensitive=["sex"], features=["x1", "x2"]
    )
    drawn, _ = tables.explain_rows(request, model=model, seed=3, rows=100)
    shares = frame["sex"].fillna("(missing)").value_counts()
    got = drawn["sex"].fillna("(missing)").value_counts()
    for sex, n in shares.items():
        assert got[sex] == max(1, round(100 * n / len(frame)))
