"""Table audits against the engine's own GROUP BY, measured side by side (issue 14). Not part of CI.

Each row is a whole process (interpreter start and imports included), timed and measured for peak memory
(RSS of the child) and CPU time (user + system), min and median of ``--repeat`` runs. Ratios are audit / engine
in the same run. ``--before DIR`` runs every audit again with ``PYTHONPATH=DIR`` (a checkout of the code before a
change, e.g. ``git archive main | tar -x -C DIR``), alternating run by run with the new code. Both are
byte-compiled first (an installed package is; a checkout run with PYTHONDONTWRITEBYTECODE would compile its
modules again in every run). Run it with ``PYTHONPATH`` set to the checkout to measure.

1. A Parquet prediction log: ``governance audit --data`` (the file path), the same through
   ``--query "SELECT * FROM read_parquet(...)"`` (DuckDB), and as a table of a DuckDB database, against
   DuckDB's own ``GROUP BY`` (goal: within 1.5x, under 300 MB).
2. The same log as CSV (goal: bounded memory, within 1.5x of DuckDB's group-by over the CSV).
3. PostgreSQL (``--pg-rows``, needs GOVERNANCE_TEST_POSTGRES_URL and psql): ``--table`` against the same
   ``GROUP BY`` through psql (goal: 1.5x).
4. PySpark local (``--spark-rows``): the audit's overhead beyond ``spark.sql(group by)`` in one session
   (goal: under 2 s).
5. A model's audit of a DuckDB table (``--model-rows``): a logistic regression on five features scored in
   batches, AUC and Brier with 200 resamples, against the floor of reading the same columns and running
   ``predict_proba`` on every batch in one process (goal: memory that does not grow with the rows; speed
   beside the floor and beside ``--before``).

Run: ``.venv/bin/python benchmarks/engine/run.py --rows 50000000 --csv-rows 50000000 --pg-rows 10000000
--spark-rows 10000000`` (data goes to benchmarks/_data/engine/, deleted with ``--clean``; ``--rows 0`` skips the
Parquet and DuckDB-table part).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "_data" / "engine"
PYTHON = sys.executable
GOVERNANCE = str(Path(PYTHON).with_name("governance"))
KEYS = "race, sex, y_true, y_pred"
AUDIT = ["--predictions", "y_pred", "--target", "y_true", "--sensitive", "race", "--sensitive", "sex"]
AUDIT += ["--no-register", "--no-figures", "--n-boot", "0"]

MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(seconds, usage.ru_maxrss / 1024, code, usage.ru_utime + usage.ru_stime)
"""
LOOP = False
BEFORE: str | None = None  # --before DIR: the audits run again with PYTHONPATH=DIR (the code before a change)
Result = tuple[float, float, float, float]  # min and median seconds, max peak RSS (MB), median CPU seconds


def measure(command: list[str], repeat: int, pythonpath: str | None = None) -> Result:
    """(min seconds, median seconds, max peak RSS in MB, median CPU seconds) of ``command`` run ``repeat`` times."""
    return summary([run_once(command, pythonpath) for _ in range(repeat)])


def run_once(command: list[str], pythonpath: str | None = None) -> tuple[float, float, float]:
    """Seconds, peak RSS (MB) and CPU seconds of one run of ``command``."""
    env = {**os.environ, "PYTHONPATH": pythonpath} if pythonpath else None
    out = subprocess.run(
        [PYTHON, "-c", MEASURE, *command], capture_output=True, text=True, check=True, env=env
    )
    seconds, peak, code, cpu = out.stdout.split()
    if int(code) not in (0, 1, 3):
        raise SystemExit(f"{' '.join(command)} exited {code}")
    return float(seconds), float(peak), float(cpu)


def summary(runs: list[tuple[float, float, float]]) -> Result:
    times, peaks, cpus = zip(*runs, strict=True)
    return min(times), statistics.median(times), max(peaks), statistics.median(cpus)


def audit_rows(name: str, command: list[str], repeat: int, engine: list[str]) -> None:
    """The audit with this code, and (``--before``) with the code before, each against the engine's own query.

    Run by run in turn (engine, audit, audit before), so that all three see the same load on a shared machine;
    the ratios are over the engine's runs made alongside (its row above is its own earlier runs)."""
    alongside: list[tuple[float, float, float]] = []
    now: list[tuple[float, float, float]] = []
    before: list[tuple[float, float, float]] = []
    for _ in range(repeat):
        alongside.append(run_once(engine))
        now.append(run_once(command))
        if BEFORE:
            before.append(run_once(command, BEFORE))
    base = summary(alongside)
    row(name, summary(now), base)
    if BEFORE:
        row(f"{name}, before", summary(before), base)


def make_parquet(path: Path, rows: int, seed: int = 0) -> None:
    """A prediction log: race (5 groups) and sex (2) as strings, binary labels and decisions."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    races = np.array(["asian", "black", "hispanic", "other", "white"])
    sexes = np.array(["female", "male"])
    writer = None
    for start in range(0, rows, 5_000_000):
        size = min(5_000_000, rows - start)
        race = rng.integers(0, 5, size=size)
        sex = rng.integers(0, 2, size=size)
        y_true = (rng.random(size) < 0.3 + 0.05 * sex).astype(np.int8)
        y_pred = (rng.random(size) < 0.25 + 0.1 * y_true + 0.02 * race).astype(np.int8)
        table = pa.table({"race": races[race], "sex": sexes[sex], "y_true": y_true, "y_pred": y_pred})
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()


PYARROW_LOOP = """
import sys
from governance.audit.fairness import compute_fairness_from_counts
from governance.audit.fairness.streaming import count_parquet
counted = count_parquet(sys.argv[1], predictions="y_pred", target="y_true", sensitive=["race", "sex"])
compute_fairness_from_counts(counted.table, n_boot=0)
"""


NO_BAR = "SET enable_progress_bar = false; "  # as the audit runs DuckDB: no progress bar drawn


def duckdb_sql(sql: str) -> list[str]:
    return [PYTHON, "-c", f"import duckdb; duckdb.connect().execute({NO_BAR + sql!r}).fetchall()"]


def row(name: str, result: Result, base: Result | None) -> None:
    ratio = f"{result[1] / base[1]:.2f}x" if base else ""
    cpu = f"{result[3]:.2f} s" + (f" ({result[3] / base[3]:.2f}x)" if base else "")
    print(
        f"| {name} | {result[0]:.2f} s | {result[1]:.2f} s | {result[2]:.0f} MB | {ratio} | {cpu} |",
        flush=True,
    )


def header(title: str) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n{title} (load average {load})\n\n| run | min | median | peak RSS | median / engine | CPU (/ engine) |\n"
        "|---|---|---|---|---|---|",
        flush=True,
    )


def parquet_and_table(rows: int, repeat: int, workspace: Path) -> None:
    parquet = DATA / f"log_{rows}.parquet"
    make_parquet(parquet, rows)
    out = ["--workspace", str(workspace), "--json", str(workspace / "a.json")]
    header(f"Parquet, {rows:,} rows")
    engine_sql = duckdb_sql(f"SELECT {KEYS}, count(*) FROM read_parquet('{parquet}') GROUP BY ALL")
    engine = measure(engine_sql, repeat)
    row("DuckDB's own GROUP BY", engine, None)
    audit_rows("audit --data (file path)", [GOVERNANCE, "audit", "b@1", "--data", str(parquet), *AUDIT, *out],
               repeat, engine_sql)  # fmt: skip
    small = DATA / "log_1000.parquet"
    make_parquet(small, 1000)
    audit_rows("audit --data of 1,000 rows (the tool's fixed cost: start, imports)",
               [GOVERNANCE, "audit", "b@1", "--data", str(small), *AUDIT, *out], repeat, engine_sql)  # fmt: skip
    if LOOP:
        row("pyarrow batch loop (the file path before)", measure([PYTHON, "-c", PYARROW_LOOP, str(parquet)], repeat),
            engine)  # fmt: skip
    query = f"SELECT * FROM read_parquet('{parquet}')"
    audit_rows("audit --query read_parquet (DuckDB)", [GOVERNANCE, "audit", "b@1", "--query", query, *AUDIT, *out],
               repeat, engine_sql)  # fmt: skip
    database = DATA / f"log_{rows}.duckdb"
    if not database.exists():
        subprocess.run(
            duckdb_sql_file(database, f"CREATE TABLE log AS SELECT * FROM read_parquet('{parquet}')"),
            check=True,
        )
    header(f"DuckDB table, {rows:,} rows")
    engine_sql = duckdb_sql_file(database, f"SELECT {KEYS}, count(*) FROM log GROUP BY ALL")
    row("DuckDB's own GROUP BY", measure(engine_sql, repeat), None)
    table = ["--table", "log", "--connection", f"duckdb://{database}"]
    audit_rows("audit --table", [GOVERNANCE, "audit", "b@1", *table, *AUDIT, *out], repeat, engine_sql)


def csv_file(csv_rows: int, repeat: int, workspace: Path) -> None:
    out = ["--workspace", str(workspace), "--json", str(workspace / "a.json")]
    csv = DATA / f"log_{csv_rows}.csv"
    if not csv.exists():
        source = DATA / f"log_{csv_rows}.parquet"
        make_parquet(source, csv_rows)
        subprocess.run(
            duckdb_sql(f"COPY (SELECT * FROM read_parquet('{source}')) TO '{csv}' (HEADER)"), check=True
        )
    header(f"CSV, {csv_rows:,} rows")
    engine_sql = duckdb_sql(f"SELECT {KEYS}, count(*) FROM read_csv('{csv}') GROUP BY ALL")
    row("DuckDB's own GROUP BY", measure(engine_sql, repeat), None)
    audit_rows("audit --data (file path)", [GOVERNANCE, "audit", "b@1", "--data", str(csv), *AUDIT, *out],
               repeat, engine_sql)  # fmt: skip


def duckdb_sql_file(database: Path, sql: str) -> list[str]:
    return [
        PYTHON,
        "-c",
        f"import duckdb; duckdb.connect({str(database)!r}).execute({NO_BAR + sql!r}).fetchall()",
    ]


def postgres(rows: int, repeat: int, workspace: Path) -> None:
    import sqlalchemy as sa

    server = sa.make_url(os.environ["GOVERNANCE_TEST_POSTGRES_URL"])
    parquet = DATA / f"log_{rows}.parquet"
    make_parquet(parquet, rows)
    csv = DATA / f"log_{rows}_pg.csv"
    subprocess.run(
        duckdb_sql(f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{csv}' (HEADER)"), check=True
    )
    psql = ["psql", "-X", "-q", "-h", server.host or "localhost", "-p", str(server.port or 5432), "-U",
            server.username or "postgres", "-d", server.database or "postgres"]  # fmt: skip
    subprocess.run([*psql, "-c", "DROP TABLE IF EXISTS bench_log; CREATE TABLE bench_log (race text, sex text, "
                    "y_true smallint, y_pred smallint)"], check=True)  # fmt: skip
    subprocess.run([*psql, "-c", f"\\copy bench_log FROM '{csv}' CSV HEADER"], check=True)
    subprocess.run([*psql, "-c", "ANALYZE bench_log"], check=True)
    csv.unlink()
    try:
        header(f"PostgreSQL, {rows:,} rows")
        engine_sql = [
            *psql,
            "-o",
            "/dev/null",
            "-c",
            f"SELECT {KEYS}, count(*) FROM bench_log GROUP BY {KEYS}",
        ]
        row("the same GROUP BY through psql", measure(engine_sql, repeat), None)
        url = server.set(drivername="postgresql").render_as_string(hide_password=False)
        table = ["--table", "bench_log", "--connection", url]
        out = ["--workspace", str(workspace), "--json", str(workspace / "a.json")]
        audit_rows("audit --table", [GOVERNANCE, "audit", "b@1", *table, *AUDIT, *out], repeat, engine_sql)
    finally:
        subprocess.run([*psql, "-c", "DROP TABLE IF EXISTS bench_log"], check=True)


SPARK = """
import sys, time
from pyspark.sql import SparkSession
spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").config(
    "spark.sql.shuffle.partitions", "4").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
spark.read.parquet(sys.argv[1]).createOrReplaceTempView("log")
from governance.audit.run import audit
from governance.workspace import Workspace
spark.sql("SELECT count(*) FROM log").collect()  # warm the JVM and the file cache once
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    spark.sql("SELECT race, sex, y_true, y_pred, count(*) FROM log GROUP BY ALL").collect()
    engine = time.perf_counter() - start
    start = time.perf_counter()
    audit(name="b", version="1", table="log", connection="spark://local[2]", predictions="y_pred",
          target="y_true", sensitive=["race", "sex"], n_boot=0, explain=False, write=False,
          workspace=Workspace(root=__import__("pathlib").Path(sys.argv[2])))
    whole = time.perf_counter() - start
    print(f"{engine:.3f} {whole:.3f}", flush=True)
"""


def spark(rows: int, repeat: int, workspace: Path) -> None:
    parquet = DATA / f"log_{rows}.parquet"
    make_parquet(parquet, rows)
    out = subprocess.run([PYTHON, "-c", SPARK, str(parquet), str(workspace), str(repeat)], capture_output=True,
                         text=True, check=True)  # fmt: skip
    pairs = [tuple(map(float, line.split())) for line in out.stdout.split("\n") if line.strip()]
    engine = [p[0] for p in pairs]
    overhead = [p[1] - p[0] for p in pairs]
    print(f"\nPySpark local[2], {rows:,} rows (one session)\n\n| run | min | median |\n|---|---|---|")
    print(f"| spark.sql(GROUP BY) | {min(engine):.2f} s | {statistics.median(engine):.2f} s |")
    print(
        f"| audit --table, beyond the GROUP BY | {min(overhead):.2f} s | {statistics.median(overhead):.2f} s |"
    )


FEATURES = ["x1", "x2", "x3", "x4", "x5"]

MODEL_FLOOR = """
import sys, duckdb
from governance.intake.model_files import load_model
model = load_model(sys.argv[2]).estimator
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")
reader = con.execute("SELECT x1, x2, x3, x4, x5, race, sex, repaid FROM people").to_arrow_reader(1_000_000)
for batch in reader:
    frame = batch.to_pandas()
    model.predict_proba(frame[["x1", "x2", "x3", "x4", "x5"]])
"""


def make_people(database: Path, model_path: Path, rows: int) -> None:
    """A DuckDB table of people (race, sex, five features, repaid) made in DuckDB, and a model fitted on a sample."""
    if database.exists() and model_path.exists():
        return
    import duckdb
    from sklearn.linear_model import LogisticRegression

    from governance.intake.model_files import save_model

    database.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database))
    con.execute("SET enable_progress_bar = false; SELECT setseed(0.5)")
    features = ", ".join(f"random() * 2 - 1 AS {name}" for name in FEATURES)
    con.execute(
        f"CREATE TABLE people AS SELECT ['asian', 'black', 'hispanic', 'other', 'white'][1 + (i % 5)] AS race, "
        f"CASE WHEN random() < 0.45 THEN 'female' ELSE 'male' END AS sex, {features} FROM range({rows}) t(i)"
    )
    con.execute(
        "ALTER TABLE people ADD COLUMN repaid INTEGER; "
        "UPDATE people SET repaid = CASE WHEN random() < 1 / (1 + exp(-(x1 - x2 + 0.5 * x3))) THEN 1 ELSE 0 END"
    )
    sample = con.execute(f"SELECT {', '.join(FEATURES)}, repaid FROM people USING SAMPLE 100000 ROWS").df()
    con.close()
    save_model(LogisticRegression().fit(sample[FEATURES], sample["repaid"]), model_path)


def model_table(rows: int, repeat: int, workspace: Path) -> None:
    database, model_path = DATA / f"people_{rows}.duckdb", DATA / "people_model.skops"
    if not database.exists():
        model_path.unlink(missing_ok=True)
    make_people(database, model_path, rows)
    header(f"A model's audit of a DuckDB table, {rows:,} rows")
    floor = [PYTHON, "-c", MODEL_FLOOR, str(database), str(model_path)]
    row("floor: read the columns and predict_proba each batch", measure(floor, repeat), None)
    out = ["--workspace", str(workspace), "--json", str(workspace / "a.json")]
    table = ["--table", "people", "--connection", f"duckdb://{database}", "--model", str(model_path)]
    roles = ["--target", "repaid", "--sensitive", "race", "--sensitive", "sex"]
    roles += [part for name in FEATURES for part in ("--features", name)]
    command = [GOVERNANCE, "audit", "m@1", *table, *roles, "--no-register", "--no-figures", "--no-explain"]
    audit_rows("audit --table --model (200 resamples)", [*command, "--n-boot", "200", *out], repeat, floor)


def compile_sources(before: str | None) -> None:
    """Byte-compile the code measured (and ``--before``'s) first, as installing a package does: with
    PYTHONDONTWRITEBYTECODE set, a checkout without ``__pycache__`` compiles every module again in every run
    (about 0.15 s of processor time, which no installed copy pays)."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("governance")
    folders = list(spec.submodule_search_locations or []) if spec else []
    folders += [str(Path(before) / "governance")] if before else []
    for folder in folders:
        compileall.compile_dir(folder, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--csv-rows", type=int, default=0)
    parser.add_argument("--pg-rows", type=int, default=0)
    parser.add_argument("--spark-rows", type=int, default=0)
    parser.add_argument("--model-rows", type=int, default=0, help="a model's audit of a DuckDB table")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clean", action="store_true", help="delete the generated data afterwards")
    parser.add_argument(
        "--before", help="a checkout of the code before a change: its audits run too (PYTHONPATH)"
    )
    parser.add_argument(
        "--loop", action="store_true", help="also time the pyarrow batch loop (the path before DuckDB)"
    )
    args = parser.parse_args()
    global BEFORE, LOOP
    BEFORE, LOOP = args.before, args.loop
    compile_sources(BEFORE)
    workspace = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    (workspace / "governance.yaml").write_text("organisation:\n  name: Bench\n", encoding="utf-8")
    started = time.perf_counter()
    try:
        if args.rows:
            parquet_and_table(args.rows, args.repeat, workspace)
        if args.csv_rows:
            csv_file(args.csv_rows, args.repeat, workspace)
        if args.pg_rows:
            postgres(args.pg_rows, args.repeat, workspace)
        if args.spark_rows:
            spark(args.spark_rows, args.repeat, workspace)
        if args.model_rows:
            model_table(args.model_rows, args.repeat, workspace)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
        if args.clean:
            shutil.rmtree(DATA, ignore_errors=True)
    print(f"\n({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
