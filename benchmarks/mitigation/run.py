"""Trade-off curves against one audit of the same rows, printed as a ratio measured in the same run.

1M rows (``--rows``), two sensitive attributes (sex: 2 groups, age band: 4), scores and labels. Timed:
``compute_tradeoff`` with 200 thresholds (``--thresholds``) following the default policy's three key ratios,
against ``compute_fairness`` on the same rows with the default policy's settings (what the audit's fairness step
runs: decisions at 0.5, scores, labels, 1,000 resamples capped by the audit's own budget). The goal is a ratio
below 1: the curves come from sorted scores per group, not from 200 audits.

Run: ``.venv/bin/python benchmarks/mitigation/run.py`` (about a minute on two cores).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def case(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], size=rows, p=[0.45, 0.55])
    band = rng.choice(["under 25", "25-34", "35-49", "50 and over"], size=rows)
    y = rng.integers(0, 2, size=rows)
    scores = np.clip(0.3 * y + rng.normal(0.35, 0.2, size=rows) + 0.05 * (sex == "male"), 0, 1)
    return scores, y, pd.DataFrame({"sex": sex, "age_band": band})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--thresholds", type=int, default=200)
    parser.add_argument(
        "--whole-audit",
        type=int,
        metavar="ROWS",
        help="Instead: a whole audit (model, figures, report) of ROWS rows with and without the curves, which are "
        "on by default since they are in every audit with scores; prints the ratio of the medians of 3 runs each.",
    )
    args = parser.parse_args()
    if args.whole_audit:
        whole_audit(args.whole_audit)
        return

    from governance.audit.fairness import compute_fairness
    from governance.audit.fairness.tradeoff import CurveSettings, compute_tradeoff, key_ratios_of
    from governance.rules.load import load_policy

    policy = load_policy("default").policy
    scores, y, sensitive = case(args.rows)
    started = time.perf_counter()
    compute_fairness(
        y_pred=(scores >= 0.5).astype(int),
        y_true=y,
        scores=scores,
        sensitive=sensitive,
        n_boot=policy.n_boot,
        confidence_level=policy.confidence_level,
        min_group_size=policy.min_group_size,
    )
    audit_seconds = time.perf_counter() - started
    settings = CurveSettings(
        thresholds=args.thresholds,
        key_ratios=key_ratios_of(policy),
        confidence_level=policy.confidence_level,
        min_group_size=policy.min_group_size,
    )
    started = time.perf_counter()
    compute_tradeoff(scores=scores, y_true=y, sensitive=sensitive, settings=settings)
    curve_seconds = time.perf_counter() - started
    print(f"rows: {args.rows:,}; thresholds: {args.thresholds}")
    print(f"one audit's fairness step: {audit_seconds:.2f} s")
    print(f"trade-off curves:          {curve_seconds:.2f} s")
    print(f"ratio curves / audit:      {curve_seconds / audit_seconds:.2f} (goal < 1)")


def whole_audit(rows: int) -> None:
    """A whole audit with the curves (the default) against one with --no-curves, alternated, 3 runs each."""
    import statistics
    import sys
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "mitigation"))
    from mitigation_support import fit, make_frame

    from governance.audit.run import audit
    from governance.intake.model_files import save_model
    from governance.workspace import Workspace

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "governance.yaml").write_text("organisation:\n  name: Benchmark\n", encoding="utf-8")
        save_model(fit(make_frame(5000, seed=1)), root / "model.skops")
        make_frame(rows, seed=2).to_parquet(root / "holdout.parquet")
        seconds: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(3):
            for curves in (False, True):
                started = time.perf_counter()
                audit(
                    name="m",
                    version="1",
                    model=root / "model.skops",
                    data=root / "holdout.parquet",
                    target="label",
                    sensitive=["sex"],
                    explain=False,
                    curves=None if curves else False,
                    workspace=Workspace(root=root),
                )
                seconds[curves].append(time.perf_counter() - started)
    ratio = statistics.median(seconds[True]) / statistics.median(seconds[False])
    print(f"rows: {rows:,}; whole audit without curves {seconds[False]}, with {seconds[True]} (s)")
    print(f"ratio with / without curves: {ratio:.2f} (goal: close to 1)")


if __name__ == "__main__":
    main()
