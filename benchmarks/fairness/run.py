"""Fairness numeric core: speed as ratios measured in the same run.

    .venv/bin/python benchmarks/fairness/run.py            # about 1-2 minutes on 2 cores
    .venv/bin/python benchmarks/fairness/run.py --fairlearn-rows 1000000   # fairlearn on all rows (slow)

Workload (issue 3): 1,000,000 rows, two sensitive columns (race: 5 groups, sex: 2, plus their intersection
of 10), binary labels and predictions, 1,000 bootstrap resamples, every metric with intervals and tests.

Printed, all measured in this run on the same data:

- floor: factorising the two group columns plus one ``np.bincount`` building the count table;
- ours: ``compute_fairness(...)`` from the columns in memory to the full ``FairnessResult``
  (target: within 3x the floor);
- Aequitas-style: Aequitas cannot be installed here without downgrading pandas (aequitas 1.1.0 pins
  pandas < 3), so its work is emulated: per attribute a pandas group-by crosstab of the confusion counts,
  its ten group metrics, and disparities against the majority group, as ``Group().get_crosstabs`` and
  ``Bias().get_disparity_major_group`` do, with no intervals (target: ours faster);
- fairlearn ``MetricFrame`` over the intersection (one frame; fairlearn would need two more for the single
  attributes, so this favours fairlearn): the time of one frame, and of ``n_boot=K`` resamples, on
  ``--fairlearn-rows`` rows; the cost of 1,000 resamples on 1,000,000 rows is extrapolated linearly in
  resamples and in rows (fairlearn's metrics are sklearn calls on masks, linear in rows).

Many groups (issue 13), ``--workload many-groups``: 1,000,000 rows, three sensitive columns with 50, 10 and 5
levels, audited as the toolkit does by default: each column, every pair (500, 250 and 50 groups) and the full
intersection of 2,500 cells, every group with intervals and tests. Printed: the min and median of ``--repeat``
runs (at least 3) of ``compute_fairness`` and of its floor (factorising the three columns plus one
``np.bincount``), run in turns in the same process, in wall-clock and in CPU time, their ratios, and the peak
memory (``VmHWM``) of a fresh process doing each, against the floor's (the data is built the same way in both,
so the difference is what the audit itself holds at its peak). The result makes its records (what audit.json
holds) when they are first read or written, so the time and memory of also writing the result as audit.json
writes it (``write_json``: indented, a piece at a time) are printed beside them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from governance.audit.fairness import compute_fairness
from governance.results.fairness import FairnessResult
from governance.results.streamed import write_json

RACES = ["Asian", "Black", "Hispanic", "Other", "White"]


def workload(n: int, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    race = rng.choice(RACES, n, p=[0.1, 0.15, 0.2, 0.05, 0.5])
    sex = rng.choice(["female", "male"], n)
    base = 0.3 + 0.05 * (race == "White") + 0.05 * (sex == "male")
    y_true = (rng.random(n) < base).astype(np.int64)
    y_pred = np.where(rng.random(n) < 0.8, y_true, 1 - y_true)
    sensitive = pd.DataFrame({"race": pd.Series(race, dtype="str"), "sex": pd.Series(sex, dtype="str")})
    return {"sensitive": sensitive, "y_true": y_true, "y_pred": y_pred}


def best_of(repeat: int, function: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def floor(data: dict[str, Any]) -> None:
    """Factorise the group columns and build the count table with one bincount."""
    race, race_levels = pd.factorize(data["sensitive"]["race"])
    sex, sex_levels = pd.factorize(data["sensitive"]["sex"])
    index = ((race * len(sex_levels) + sex) * 2 + data["y_true"]) * 2 + data["y_pred"]
    np.bincount(index, minlength=len(race_levels) * len(sex_levels) * 4)


def ours(data: dict[str, Any], n_boot: int = 1000) -> object:
    return compute_fairness(
        y_pred=data["y_pred"], y_true=data["y_true"], sensitive=data["sensitive"], n_boot=n_boot, seed=0
    )


MANY_LEVELS = {"region": 50, "age": 10, "race": 5}


def many_groups_workload(n: int, seed: int = 0) -> dict[str, Any]:
    """Three sensitive columns of 50 x 10 x 5 levels (2,500 cells), rates that vary by region and race."""
    rng = np.random.default_rng(seed)
    codes = {name: rng.integers(0, k, n) for name, k in MANY_LEVELS.items()}
    sensitive = pd.DataFrame(
        {
            name: pd.Series(
                np.array([f"{name}-{i:02d}" for i in range(k)], dtype=object)[codes[name]], dtype="str"
            )
            for name, k in MANY_LEVELS.items()
        }
    )
    base = 0.2 + 0.004 * codes["region"] + 0.03 * codes["race"]
    y_true = (rng.random(n) < base).astype(np.int64)
    y_pred = np.where(rng.random(n) < 0.8, y_true, 1 - y_true)
    return {"sensitive": sensitive, "y_true": y_true, "y_pred": y_pred}


def many_groups_floor(data: dict[str, Any]) -> None:
    """Factorise the three group columns and count (cell, label, prediction) with one bincount."""
    index = np.zeros(len(data["sensitive"]), dtype=np.int64)
    size = 1
    for column in data["sensitive"].columns:
        codes, levels = pd.factorize(data["sensitive"][column])
        index = index * len(levels) + codes
        size *= len(levels)
    np.bincount((index * 2 + data["y_true"]) * 2 + data["y_pred"], minlength=size * 4)


def many_groups_ours(data: dict[str, Any]) -> object:
    return compute_fairness(y_pred=data["y_pred"], y_true=data["y_true"], sensitive=data["sensitive"], seed=0)


def many_groups_written(data: dict[str, Any]) -> None:
    """The result computed and written as audit.json writes it (a piece at a time, indented), to nowhere."""
    result = many_groups_ours(data)
    assert isinstance(result, FairnessResult)
    with open(os.devnull, "w", encoding="utf-8") as out:
        write_json(result, out)


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM on Linux (``ru_maxrss`` there keeps a forking parent's)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_child(which: str, rows: int) -> None:
    """In a fresh process: build the data, run one side once, print the peak resident memory in MB."""
    data = many_groups_workload(rows)
    before = peak_rss_mb()
    if which == "written":
        many_groups_written(data)
    else:
        (many_groups_floor if which == "floor" else many_groups_ours)(data)
    print(f"{before:.1f} {peak_rss_mb():.1f}")


def peak_memory(which: str, rows: int) -> tuple[float, float]:
    """(peak MB with the data built, peak MB after the call) of a fresh process."""
    output = subprocess.run(
        [sys.executable, __file__, "--peak-memory-child", which, "--rows", str(rows)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(output[0]), float(output[1])


def interleaved(repeat: int, sides: dict[str, Callable[[], object]]) -> dict[str, dict[str, list[float]]]:
    """Wall-clock and CPU seconds of each side, run in turns (floor, ours, floor, ours...) so that a change
    in the machine's load falls on both; CPU time counts this process only, less disturbed by other jobs."""
    times: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in sides}
    for _ in range(repeat):
        for name, function in sides.items():
            wall, cpu = time.perf_counter(), time.process_time()
            function()
            times[name]["cpu"].append(time.process_time() - cpu)
            times[name]["wall"].append(time.perf_counter() - wall)
    return times


def _ratio_line(label: str, ours: list[float], floor: list[float]) -> str:
    return (
        f"RATIO {label:<5} ours / floor = {min(ours) / min(floor):6.2f} (min)  "
        f"{statistics.median(ours) / statistics.median(floor):6.2f} (median)  (target <= 5)"
    )


def many_groups(rows: int, repeat: int) -> None:
    load = os.getloadavg()
    floor_data, floor_peak = peak_memory("floor", rows)  # first, while this process is still small
    ours_data, ours_peak = peak_memory("ours", rows)
    written_peak = peak_memory("written", rows)[1]
    data = many_groups_workload(rows)
    result = many_groups_ours(data)  # warm-up: imports, first-call costs
    assert isinstance(result, FairnessResult)
    full = next(a for a in result.attributes if a.attribute == "region × age × race")
    with_interval = sum(
        1 for g in full.groups for e in g.metrics.values() if e.value is None or e.has_interval
    )
    times = interleaved(
        repeat,
        {
            "floor": lambda: many_groups_floor(data),
            "ours": lambda: many_groups_ours(data),
            "written": lambda: many_groups_written(data),
        },
    )
    groups = sum(len(a.groups) for a in result.attributes)
    print(
        f"many groups: {rows:,} rows; region 50 x age 10 x race 5: {groups:,} groups in {len(result.attributes)} "
        f"attributes (every pair and the full intersection of {len(full.groups):,} cells); {repeat} runs each, "
        f"in turns; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"intersection values with an interval (or undefined): {with_interval:,} of "
        f"{sum(len(g.metrics) for g in full.groups):,}"
    )
    for name, label in (
        ("floor", "floor (factorise 3 columns + 1 bincount)"),
        ("ours", "ours, full result with intervals, tests  "),
        ("written", "ours, and written as audit.json's JSON  "),
    ):
        wall, cpu = times[name]["wall"], times[name]["cpu"]
        print(
            f"{label}: wall min {min(wall) * 1000:8.1f} ms, median {statistics.median(wall) * 1000:8.1f} ms; "
            f"CPU min {min(cpu) * 1000:8.1f} ms, median {statistics.median(cpu) * 1000:8.1f} ms"
        )
    print(_ratio_line("wall", times["ours"]["wall"], times["floor"]["wall"]))
    print(_ratio_line("CPU", times["ours"]["cpu"], times["floor"]["cpu"]))
    print(
        f"(with the records made and written: {min(times['written']['wall']) / min(times['floor']['wall']):.2f} "
        f"wall, {min(times['written']['cpu']) / min(times['floor']['cpu']):.2f} CPU, min)"
    )
    print(
        f"peak memory of a fresh process: floor {floor_peak:,.0f} MB, ours {ours_peak:,.0f} MB "
        f"(the data alone: {floor_data:,.0f} / {ours_data:,.0f} MB)"
    )
    print(
        f"RATIO peak memory ours / floor = {ours_peak / floor_peak:5.2f}  (target <= 1.3); above the data: "
        f"floor +{floor_peak - floor_data:,.0f} MB, ours +{ours_peak - ours_data:,.0f} MB"
    )
    print(
        f"(with the records made and written: {written_peak:,.0f} MB, {written_peak / floor_peak:.2f} the floor's)"
    )


def aequitas_like(data: dict[str, Any]) -> None:
    """Aequitas's crosstabs and majority-group disparities, emulated with pandas group-bys."""
    frame = data["sensitive"].assign(
        score=data["y_pred"], label_value=data["y_true"], intersection=lambda f: f["race"] + " × " + f["sex"]
    )
    frame = frame.assign(
        tp=(frame.score == 1) & (frame.label_value == 1),
        fp=(frame.score == 1) & (frame.label_value == 0),
        fn=(frame.score == 0) & (frame.label_value == 1),
        tn=(frame.score == 0) & (frame.label_value == 0),
    )
    for attribute in ["race", "sex", "intersection"]:
        counts = frame.groupby(attribute, observed=True)[["tp", "fp", "fn", "tn"]].sum()
        counts["group_size"] = counts.sum(axis=1)
        counts["pp"] = counts.tp + counts.fp
        counts["pn"] = counts.fn + counts.tn
        metrics = pd.DataFrame(
            {
                "tpr": counts.tp / (counts.tp + counts.fn),
                "tnr": counts.tn / (counts.tn + counts.fp),
                "fpr": counts.fp / (counts.fp + counts.tn),
                "fnr": counts.fn / (counts.fn + counts.tp),
                "fdr": counts.fp / counts.pp,
                "for": counts.fn / counts.pn,
                "npv": counts.tn / counts.pn,
                "precision": counts.tp / counts.pp,
                "ppr": counts.pp / counts.pp.sum(),
                "pprev": counts.pp / counts.group_size,
            }
        )
        major = counts.group_size.idxmax()
        (metrics / metrics.loc[major]).add_suffix("_disparity")


def fairlearn_frame(data: dict[str, Any], rows: int, n_boot: int | None) -> None:
    from fairlearn.metrics import (
        MetricFrame,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    def base_rate(y_true: Any, y_pred: Any) -> float:
        return float(np.mean(y_true))

    def npv(y_true: Any, y_pred: Any) -> float:
        return float(precision_score(1 - y_true, 1 - y_pred, zero_division=0))

    MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "base_rate": base_rate,
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
            "fnr": false_negative_rate,
            "tnr": true_negative_rate,
            "precision": precision_score,
            "npv": npv,
            "accuracy": accuracy_score,
        },
        y_true=data["y_true"][:rows],
        y_pred=data["y_pred"][:rows],
        sensitive_features=data["sensitive"].iloc[:rows],
        n_boot=n_boot,
        ci_quantiles=None if n_boot is None else [0.025, 0.975],
        random_state=None if n_boot is None else 0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--repeat", type=int, default=5, help="best of this many runs (ours, floor, Aequitas)"
    )
    parser.add_argument("--fairlearn-rows", type=int, default=100_000)
    parser.add_argument("--fairlearn-resamples", type=int, default=2)
    parser.add_argument("--skip-fairlearn", action="store_true")
    parser.add_argument(
        "--workload",
        choices=["basic", "many-groups", "both"],
        default="both",
        help="basic: 5 x 2 groups (issue 3); many-groups: 50 x 10 x 5 levels (issue 13); both (default)",
    )
    parser.add_argument("--peak-memory-child", choices=["floor", "ours", "written"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_memory_child:
        peak_memory_child(args.peak_memory_child, args.rows)
        return
    if args.workload in ("many-groups", "both"):
        many_groups(args.rows, repeat=max(args.repeat, 3))
    if args.workload == "many-groups":
        return

    data = workload(args.rows)
    ours(data, n_boot=10)  # warm-up: imports, first-call costs
    t_floor = best_of(args.repeat, lambda: floor(data))
    t_ours = best_of(args.repeat, lambda: ours(data))
    t_ours_median = statistics.median(best_of(1, lambda: ours(data)) for _ in range(3))
    t_aequitas = best_of(args.repeat, lambda: aequitas_like(data))
    print(f"rows: {args.rows:,}; groups: race 5, sex 2, race x sex 10; 1,000 resamples")
    print(f"floor (factorise 2 columns + 1 bincount) : {t_floor * 1000:8.1f} ms")
    print(
        f"ours, full result with intervals and tests: {t_ours * 1000:8.1f} ms  (median {t_ours_median * 1000:.1f})"
    )
    print(f"Aequitas-style crosstabs + disparities    : {t_aequitas * 1000:8.1f} ms  (no intervals)")
    print(f"RATIO ours / floor          = {t_ours / t_floor:6.2f}  (target <= 3)")
    print(f"RATIO ours / Aequitas-style = {t_ours / t_aequitas:6.2f}  (target < 1)")
    if not args.skip_fairlearn:
        rows = min(args.fairlearn_rows, args.rows)
        k = args.fairlearn_resamples
        t_frame = best_of(1, lambda: fairlearn_frame(data, rows, None))
        t_boot = best_of(1, lambda: fairlearn_frame(data, rows, k))
        per_resample = max(t_boot - t_frame, 0.0) / k
        scale = args.rows / rows
        estimate = (t_frame + 1000 * per_resample) * scale
        print(
            f"fairlearn MetricFrame on {rows:,} rows: one frame {t_frame:.2f} s, "
            f"n_boot={k}: {t_boot:.2f} s ({per_resample:.2f} s per resample)"
        )
        print(
            f"fairlearn n_boot=1000 on {args.rows:,} rows, extrapolated linearly in resamples and rows: "
            f"{estimate:,.0f} s ({estimate / 3600:.1f} h)"
        )
        print(f"RATIO fairlearn (extrapolated) / ours = {estimate / t_ours:,.0f}")


if __name__ == "__main__":
    main()
