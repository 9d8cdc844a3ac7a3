"""End-to-end audit benchmarks, printed as ratios measured in the same run.

1. ``governance audit --predictions`` on a 1,000,000-row Parquet file, against a Python process that only imports
   pandas and reads the same columns (target: within 3x).
2. A 50,000,000-row Parquet prediction log: peak memory of the audit (target: under 1 GB) against pandas reading
   the same columns.

Run: ``.venv/bin/python benchmarks/end_to_end/run.py [--rows-large 50000000]`` (data is generated under
benchmarks/_data/, which is git-ignored; the 50M-row file takes about a minute to write the first time).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "_data"
PYTHON = sys.executable
GOVERNANCE = str(Path(PYTHON).with_name("governance"))
COLUMNS = ["race", "sex", "y_true", "y_pred"]


def make_log(path: Path, rows: int, seed: int = 0) -> None:
    """A prediction log: two sensitive columns (5 and 2 groups), binary labels and predictions."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    races = pa.array(["asian", "black", "hispanic", "other", "white"])
    sexes = pa.array(["female", "male"])
    chunk = 5_000_000
    writer = None
    try:
        for start in range(0, rows, chunk):
            size = min(chunk, rows - start)
            race = rng.integers(0, 5, size=size, dtype=np.int8)
            sex = rng.integers(0, 2, size=size, dtype=np.int8)
            y_true = (rng.random(size) < 0.3 + 0.05 * sex).astype(np.int8)
            y_pred = (rng.random(size) < 0.25 + 0.1 * y_true + 0.02 * race).astype(np.int8)
            table = pa.table(
                {
                    "race": pa.DictionaryArray.from_arrays(pa.array(race), races),
                    "sex": pa.DictionaryArray.from_arrays(pa.array(sex), sexes),
                    "y_true": y_true,
                    "y_pred": y_pred,
                }
            )
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=1_000_000)
    finally:
        if writer is not None:
            writer.close()


def timed(command: list[str]) -> tuple[float, int, int]:
    """Wall time, peak RSS (kB, from wait4) and exit code of a child process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    assert process.stderr is not None
    error = process.stderr.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 3):
        print(error, file=sys.stderr)
    return elapsed, usage.ru_maxrss, code


def pandas_read(path: Path) -> list[str]:
    return [PYTHON, "-c", f"import pandas as pd; pd.read_parquet({str(path)!r}, columns={COLUMNS!r})"]


def audit(path: Path, output: str, *extra: str) -> list[str]:
    return [
        GOVERNANCE,
        "audit",
        "vendor@1",
        "--no-register",
        "--data",
        str(path),
        "--predictions",
        "y_pred",
        "--target",
        "y_true",
        "--sensitive",
        "race",
        "--sensitive",
        "sex",
        "--policy",
        "four-fifths",
        "--output",
        output,
        "--quiet",
        *extra,
    ]


def best_of(command: list[str], repeats: int) -> tuple[float, int]:
    runs = [timed(command) for _ in range(repeats)]
    return min(run[0] for run in runs), max(run[1] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--rows-large", type=int, default=50_000_000, help="0 skips the larger-than-memory run"
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    small = DATA / f"log-{args.rows}.parquet"
    make_log(small, args.rows)
    with tempfile.TemporaryDirectory() as output:
        read_time, read_rss = best_of(pandas_read(small), args.repeats)
        audit_time, audit_rss = best_of(audit(small, output), args.repeats)
        bare_time, _ = best_of(audit(small, output, "--no-figures"), args.repeats)
    print(
        f"1. {args.rows:,} rows, 1,000 bootstrap resamples, every rate with intervals, tests and LL144 tables:"
    )
    print(
        f"   pandas-only read {read_time:.2f} s; governance audit end to end {audit_time:.2f} s "
        f"-> ratio {audit_time / read_time:.2f}x (target <= 3x); with --no-figures {bare_time:.2f} s "
        f"-> {bare_time / read_time:.2f}x"
    )

    if args.rows_large:
        large = DATA / f"log-{args.rows_large}.parquet"
        print(f"   (writing {large.name} if needed ...)", flush=True)
        make_log(large, args.rows_large)
        with tempfile.TemporaryDirectory() as output:
            read_time, read_rss = best_of(pandas_read(large), 1)
            audit_time, audit_rss = best_of(audit(large, output), 1)
        print(
            f"2. {args.rows_large:,} rows: audit peak RSS {audit_rss / 1024:.0f} MB (target < 1,024 MB) in {audit_time:.1f} s; "
            f"pandas reading the same columns {read_rss / 1024:.0f} MB in {read_time:.1f} s "
            f"-> memory ratio {audit_rss / read_rss:.2f}"
        )


if __name__ == "__main__":
    main()
