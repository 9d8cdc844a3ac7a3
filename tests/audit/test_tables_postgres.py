"""Table audits on the PostgreSQL test server: the same numbers as the file, and every failure in one sentence."""

from __future__ import annotations

import os
import re
import uuid
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
from governance.errors import InputError
from governance.intake.model_files import save_model
from governance.workspace import Workspace

pytestmark = pytest.mark.postgres
POSTGRES_ENV = "GOVERNANCE_TEST_POSTGRES_URL"


def _server() -> Any:
    import sqlalchemy as sa

    raw = os.environ.get(POSTGRES_ENV)
    if not raw:
        pytest.skip(
            f'{POSTGRES_ENV} is not set: start a server with eval "$(bash scripts/postgres.sh start)"'
        )
    return sa.make_url(raw)


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The prediction log in a fresh schema of the test server; a URL without the driver name, as users write it."""
    import sqlalchemy as sa

    server = _server()
    schema = f"gov_tables_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(server, poolclass=sa.pool.NullPool)
    frame = prediction_log()
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        frame.to_sql("log", connection, schema=schema, index=False)
    folder = tmp_path_factory.mktemp("pg")
    csv = folder / "log.csv"
    frame.to_csv(csv, index=False)
    url = server.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        yield {"server": server, "url": url, "schema": schema, "table": f"{schema}.log", "csv": csv,
               "frame": frame, "folder": folder, "engine": engine}  # fmt: skip
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


@pytest.mark.parametrize(
    "mode",
    [
        {"predictions": "hired", "target": "performed", "weights": "w"},
        {"predictions": "hired", "target": "performed", "scores": "score"},
        {"predictions": "estimate", "target": "amount", "policy": "regression"},
    ],
)
def test_postgres_table_audit_equals_the_file_audit(
    pg: dict[str, Any], tmp_path: Path, mode: dict[str, Any]
) -> None:
    options = {**COMMON, **mode, "sensitive": ["sex", "race"], "workspace": Workspace(root=tmp_path)}
    from_table = audit(table=pg["table"], connection=pg["url"], **options).result
    assert_same(
        audit(data=pg["csv"], **options).result.fairness.model_dump(), from_table.fairness.model_dump()
    )
    info = from_table.data.table
    assert info is not None and info.backend == "postgres" and info.n_rows == 3000
    assert refingerprint(info, pg["url"]) == info.fingerprint


def test_postgres_model_audit_in_batches(pg: dict[str, Any], tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    frame = pg["frame"]
    model = tmp_path / "m.skops"
    save_model(LogisticRegression().fit(frame[["x1", "x2"]], frame["performed"]), model)
    options = {**COMMON, "model": model, "target": "performed", "sensitive": ["sex"], "features": ["x1", "x2"],
               "explain": False, "workspace": Workspace(root=tmp_path)}  # fmt: skip
    from_table = audit(table=pg["table"], connection=pg["url"], **options).result
    assert_same(
        audit(data=pg["csv"], **options).result.fairness.model_dump(), from_table.fairness.model_dump()
    )


def test_a_password_never_reaches_an_output(
    pg: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test server trusts local logins, so a made-up password connects and must then vanish everywhere."""
    secret = "hunter2-secret"
    url = (
        pg["server"]
        .set(drivername="postgresql+psycopg", password=secret)
        .render_as_string(hide_password=False)
    )
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    args = ["audit", "vendor@1", "--no-register", "--workspace", str(tmp_path), "--table", pg["table"],
            "--connection", url, "--predictions", "hired", "--sensitive", "sex", "--n-boot", "20", "--no-figures"]  # fmt: skip
    monkeypatch.setattr("sys.argv", ["governance", *args])
    run = CliRunner().invoke(cli, args)
    assert run.exit_code in (0, 1, 3), run.output
    assert secret not in run.output
    written = [p.read_text(encoding="utf-8") for p in (tmp_path / "audits").rglob("*") if p.is_file()]
    assert written and not any(secret in text for text in written)
    assert any(
        ":***@" in text for text in written
    )  # the redacted URL is recorded, so the audit names its source
    run = CliRunner().invoke(cli, [*args[:-2], "--table", f"{pg['schema']}.nope"])
    assert run.exit_code == 2 and secret not in run.output
    # Through the register too: the register database never holds it.
    model = tmp_path / "m.skops"
    from sklearn.dummy import DummyClassifier

    save_model(DummyClassifier().fit([[0], [1]], [0, 1]), model)
    added = CliRunner().invoke(cli, ["register", "add", "vendor", "--workspace", str(tmp_path), "--actor", "a@x",
                                     "--owner", "o@x", "--purpose", "p", "--version", "1", "--model", str(model)])  # fmt: skip
    assert added.exit_code == 0, added.output
    registered = [a for a in args if a != "--no-register"]
    monkeypatch.setattr("sys.argv", ["governance", *registered])
    run = CliRunner().invoke(cli, [*registered, "--actor", "a@x"])
    assert run.exit_code in (0, 1, 3), run.output
    stored = b"".join(p.read_bytes() for p in (tmp_path / ".governance").rglob("*") if p.is_file())
    assert b"vendor" in stored and secret.encode() not in stored
    run = CliRunner().invoke(cli, ["register", "verify", "--workspace", str(tmp_path), "--refingerprint", "vendor@1",
                                   "--connection", url])  # fmt: skip
    # (exit 1: the first, unregistered audit's folder is an orphan to the register; the table is unchanged)
    assert "Unchanged: PostgreSQL:" in run.output and secret not in run.output


def _error(pg: dict[str, Any], tmp_path: Path, *args: str) -> str:
    base = [
        "audit",
        "vendor@1",
        "--no-register",
        "--workspace",
        str(tmp_path),
        "--output",
        str(tmp_path / "out"),
    ]
    run = CliRunner().invoke(cli, [*base, "--predictions", "hired", "--sensitive", "sex", *args])
    assert run.exit_code == 2, run.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert "Traceback" not in run.output and run.output.count("\n") == 1
    return run.output


def test_a_missing_table_and_a_missing_column(pg: dict[str, Any], tmp_path: Path) -> None:
    output = _error(pg, tmp_path, "--connection", pg["url"], "--table", f"{pg['schema']}.decisions")
    assert "names a table that does not exist in PostgreSQL at postgresql://postgres@" in output
    output = _error(pg, tmp_path, "--connection", pg["url"], "--table", pg["table"], "--target", "outcome")
    assert re.search(r"There is no column 'outcome' in .*log \(PostgreSQL\) \(named by --target\)", output)


def test_an_unreachable_server(tmp_path: Path, pg: dict[str, Any]) -> None:
    output = _error(pg, tmp_path, "--connection", "postgresql://ana:pw@127.0.0.1:1/hr", "--table", "t")
    assert "Could not connect to the PostgreSQL server at postgresql://ana:***@127.0.0.1:1/hr" in output
    assert "pw@" not in output


def test_a_user_without_permission(pg: dict[str, Any], tmp_path: Path) -> None:
    role = f"gov_reader_{uuid.uuid4().hex[:8]}"
    with pg["engine"].begin() as connection:
        connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{pg["schema"]}" TO "{role}"')
    try:
        url = pg["server"].set(drivername="postgresql", username=role).render_as_string(hide_password=False)
        output = _error(pg, tmp_path, "--connection", url, "--table", pg["table"])
        assert "refused to read the table" in output and "grant this user SELECT" in output
    finally:
        with pg["engine"].begin() as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')


def test_a_query_that_runs_too_long(pg: dict[str, Any], tmp_path: Path) -> None:
    query = f"SELECT l.* FROM {pg['table']} AS l, (SELECT pg_sleep(3)) AS s"
    output = _error(pg, tmp_path, "--connection", pg["url"], "--query", query, "--query-timeout", "0.3")
    assert "stopped the query given with --query at the time limit" in output and "--query-timeout" in output


def test_wrong_type_for_weights(pg: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"The column 'race' of .*log \(PostgreSQL\) holds string"):
        audit(name="v", version="1", table=pg["table"], connection=pg["url"], predictions="hired", sensitive=["sex"],
              weights="race", workspace=Workspace(root=tmp_path), write=False)  # fmt: skip


def test_the_guide_postgresql_example_runs(
    pg: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: Guide\n", encoding="utf-8")
    with pg["engine"].begin() as connection:
        decisions().to_sql("decisions", connection, schema=pg["schema"], index=False)
    replace = {
        "postgresql://auditor@db.example.com/hr": pg["url"],
        "hr.decisions": f"{pg['schema']}.decisions",
    }
    (run,) = run_section("PostgreSQL", tmp_path, replace)
    assert "Report:" in run.output


NUMERIC_MODES: dict[str, dict[str, Any]] = {
    "amounts (regression)": {"predictions": "estimate", "target": "amount", "policy": "regression"},
    "0/1 labels and scores": {"predictions": "hired", "target": "performed", "scores": "score"},
    "0/1 decisions with weights": {"predictions": "hired", "target": "performed", "weights": "w"},
}


@pytest.mark.parametrize("mode", list(NUMERIC_MODES))
def test_numeric_columns_audit_as_the_file_does(pg: dict[str, Any], tmp_path: Path, mode: str) -> None:
    """Money and codes stored as NUMERIC come back as Decimal: they are numbers, as in the file (before: a
    regression was refused as "not the same classes", and 0/1 codes as "not 0/1")."""
    table = f"{pg['schema']}.money"
    with pg["engine"].begin() as connection:
        connection.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS {table} AS SELECT sex, race, CAST(hired AS NUMERIC(1, 0)) AS hired, "
            "CAST(performed AS NUMERIC(1, 0)) AS performed, CAST(score AS NUMERIC(6, 3)) AS score, "
            "CAST(w AS NUMERIC(6, 3)) AS w, CAST(amount AS NUMERIC(12, 2)) AS amount, "
            f"CAST(estimate AS NUMERIC(12, 2)) AS estimate FROM {pg['table']}"
        )
    options = {
        **COMMON,
        **NUMERIC_MODES[mode],
        "sensitive": ["sex", "race"],
        "workspace": Workspace(root=tmp_path),
    }
    from_file = audit(data=pg["csv"], **options).result
    from_table = audit(table=table, connection=pg["url"], **options).result
    assert_same(from_file.fairness.model_dump(), from_table.fairness.model_dump())


def test_a_model_reads_numeric_columns_without_a_precision(pg: dict[str, Any], tmp_path: Path) -> None:
    """PostgreSQL's NUMERIC without precision or scale holds any digits: a feature with 16 decimals, 0/1 labels and
    a group code come to the model as the file's numbers (before: Arrow refused 'Rescaling Decimal value would
    cause data loss', as Ibis reads such a column as DECIMAL(38, 9))."""
    from sklearn.linear_model import LogisticRegression

    frame = pg["frame"]
    table = f"{pg['schema']}.loose"
    with pg["engine"].begin() as connection:
        connection.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS {table} AS SELECT sex, CAST(race = 'a' AS INT)::NUMERIC AS code, "
            f"CAST(performed AS NUMERIC) AS performed, CAST(x1 AS NUMERIC) AS x1, x2 FROM {pg['table']}"
        )
    csv = tmp_path / "loose.csv"
    frame.assign(code=(frame["race"] == "a").astype(int)).to_csv(csv, index=False)
    model = tmp_path / "m.skops"
    save_model(LogisticRegression().fit(frame[["x1", "x2"]], frame["performed"]), model)
    options = {**COMMON, "model": model, "target": "performed", "sensitive": ["sex", "code"],
               "features": ["x1", "x2"], "explain_budget": 5.0, "explain_rows": 300,
               "workspace": Workspace(root=tmp_path)}  # fmt: skip
    from_table = audit(table=table, connection=pg["url"], **options).result
    assert_same(
        audit(data=csv, **options).result.fairness.model_dump(), from_table.fairness.model_dump(), tol=1e-9
    )


def test_a_model_reads_a_numeric_nan_as_a_missing_value(pg: dict[str, Any], tmp_path: Path) -> None:
    """PostgreSQL's NUMERIC(4, 1) may hold 'NaN': a group code with it is missing, as the file's empty cells are
    (before: Arrow refused "The string 'NaN' is not a valid decimal128 number" and the audit stopped)."""
    from sklearn.linear_model import LogisticRegression

    frame = pg["frame"]
    table = f"{pg['schema']}.codes_nan"
    with pg["engine"].begin() as connection:
        connection.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS {table} AS SELECT sex, CASE race WHEN 'a' THEN 'NaN' WHEN 'b' THEN 1.5 "
            f"ELSE 2 END::NUMERIC(4, 1) AS code, performed, x1, x2 FROM {pg['table']}"
        )
    csv = tmp_path / "codes.csv"
    frame.assign(code=frame["race"].map({"a": None, "b": 1.5, "c": 2.0})).to_csv(csv, index=False)
    model = tmp_path / "m.skops"
    save_model(LogisticRegression().fit(frame[["x1", "x2"]], frame["performed"]), model)
    options = {**COMMON, "model": model, "target": "performed", "sensitive": ["sex", "code"],
               "features": ["x1", "x2"], "explain": False, "workspace": Workspace(root=tmp_path)}  # fmt: skip
    from_table = audit(table=table, connection=pg["url"], **options).result
    assert_same(audit(data=csv, **options).result.fairness.model_dump(), from_table.fairness.model_dump())


@pytest.mark.parametrize(
    "limit", ["nextval('{seq}') * 500", "(10 - nextval('{seq}')) * 300"], ids=["more", "fewer"]
)
def test_scoring_progress_ends_once_when_the_query_changes_after_its_count(
    pg: dict[str, Any], tmp_path: Path, limit: str
) -> None:
    """The rows are counted (for the bar) before the scan; a query with a volatile LIMIT gives the scan more or
    fewer rows. The bar ends once, at the rows scored (before: with more rows, it reached its end mid-scan and
    a new bar opened for every later batch; with fewer, it never ended)."""
    from sklearn.linear_model import LogisticRegression

    from governance.audit import tables
    from governance.audit.fairness import compute_fairness

    frame = pg["frame"]
    sequence = f"{pg['schema']}.seq_{uuid.uuid4().hex[:8]}"
    with pg["engine"].begin() as connection:
        connection.exec_driver_sql(f"CREATE SEQUENCE {sequence}")
    model = LogisticRegression().fit(frame[["x1", "x2"]], frame["performed"])

    def score(features: Any) -> tuple[Any, Any, Any]:
        probability = model.predict_proba(features)[:, 1]
        return (probability >= 0.5).astype(int), probability, 1

    def compute(**inputs: Any) -> Any:
        return compute_fairness(
            y_pred=inputs["y_pred"], y_true=inputs["y_true"], scores=inputs["scores"], task=inputs["task"],
            sample_weight=inputs["weights"], sensitive=inputs["sensitive"], positive_label=inputs["label"],
            n_boot=20, seed=3,
        )  # fmt: skip

    query = f"SELECT * FROM {pg['table']} LIMIT {limit.format(seq=sequence)}"
    request = tables.TableRequest(
        connection=pg["url"], table=None, query=query, sensitive=["sex"], target="performed", weights=None,
        features=["x1", "x2"], batch_rows=200,
    )  # fmt: skip
    heard: list[tuple[int, int]] = []
    scored = tables.model_inputs(
        request, model=model, score=score, check_task=lambda task, classes: None, compute=compute, seed=1,
        sample_rows=50, progress=lambda done, total: heard.append((done, total)),
    )  # fmt: skip
    assert heard[0][1] != scored.n_rows  # the count and the scan saw different rows
    assert heard[-1] == (scored.n_rows, scored.n_rows)
    assert all(done < total for done, total in heard[:-1])
