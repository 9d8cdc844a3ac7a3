"""Coverage of the intervals of a 2,500-cell intersection, simulated from a known population.

    .venv/bin/python benchmarks/fairness/coverage_many_groups.py               # about a minute on 2 cores
    .venv/bin/python benchmarks/fairness/coverage_many_groups.py --reps 100 --rows 200000

Population: three sensitive columns with 50, 10 and 5 equally likely levels (2,500 cells); each cell has its own
true selection rate, drawn once between 0.1 and 0.6. Each repetition draws ``--rows`` people, audits them with
``compute_fairness`` (selection rates only, as for a vendor's tool) and checks, for every group of the full
intersection, whether the 95 % interval covers the true value: the group's rate (Wilson), its difference and
ratio to everyone (Newcombe and score intervals through the rest of the population) and its difference and ratio
to the reference group (the largest, chosen in the sample; its true value is then the true rate of that group).
Printed: the share of intervals that cover, per kind (goal 93-97 %), over every group of every repetition, with
its standard error across repetitions (the comparisons with the reference of one sample share that reference's
error, so they are not independent draws).
"""

from __future__ import annotations

import argparse
from itertools import product

import numpy as np
import pandas as pd

from governance.audit.fairness import compute_fairness

LEVELS = (50, 10, 5)
COLUMNS = ("region", "age", "race")


def population(seed: int) -> dict[str, float]:
    """Each cell's true selection rate, by the intersection's group name."""
    rng = np.random.default_rng(seed)
    names = [
        " × ".join(f"{column}-{code:02d}" for column, code in zip(COLUMNS, codes, strict=True))
        for codes in product(*(range(k) for k in LEVELS))
    ]
    return dict(zip(names, rng.uniform(0.1, 0.6, len(names)).tolist(), strict=True))


def sample(rates: dict[str, float], rows: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    codes = [rng.integers(0, k, rows) for k in LEVELS]
    cell = (codes[0] * LEVELS[1] + codes[1]) * LEVELS[2] + codes[2]
    truth = np.array(list(rates.values()))[cell]
    frame = pd.DataFrame(
        {
            column: np.array([f"{column}-{i:02d}" for i in range(k)], dtype=object)[code]
            for column, k, code in zip(COLUMNS, LEVELS, codes, strict=True)
        }
    )
    return frame, (rng.random(rows) < truth).astype(np.int64)


def covers(low: float | None, high: float | None, value: float) -> bool | None:
    if low is None or high is None:
        return None
    return low <= value <= high


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args()
    rates = population(args.seed)
    overall = float(np.mean(list(rates.values())))  # equally likely cells
    rng = np.random.default_rng(args.seed + 1)
    shares: dict[str, list[float]] = {}
    counted: dict[str, int] = {}
    missing = 0
    for _ in range(args.reps):
        frame, selected = sample(rates, args.rows, rng)
        result = compute_fairness(y_pred=selected, sensitive=frame, n_boot=0, intersections="full")
        full = next(a for a in result.attributes if a.attribute == " × ".join(COLUMNS))
        found: dict[str, bool | None] = {}
        for group in full.groups:
            rate = group.metrics["selection_rate"]
            found[f"rate {group.group}"] = covers(rate.low, rate.high, rates[group.group])
        reference = full.reference_group
        for row in full.to_overall:
            found[f"overall difference {row.group}"] = covers(
                row.difference.low, row.difference.high, rates[row.group] - overall
            )
            found[f"overall ratio {row.group}"] = covers(
                row.ratio.low, row.ratio.high, rates[row.group] / overall
            )
        assert reference is not None
        for row in full.to_reference:
            truth = rates[row.group]
            found[f"reference difference {row.group}"] = covers(
                row.difference.low, row.difference.high, truth - rates[reference]
            )
            found[f"reference ratio {row.group}"] = covers(
                row.ratio.low, row.ratio.high, truth / rates[reference]
            )
        hits: dict[str, list[bool]] = {}
        for key, hit in found.items():
            if hit is None:
                missing += 1
                continue
            kind = " ".join(key.split(" ")[:2]) if key.startswith(("overall", "reference")) else "rate"
            hits.setdefault(kind, []).append(hit)
        for kind, values in hits.items():
            shares.setdefault(kind, []).append(float(np.mean(values)))
            counted[kind] = counted.get(kind, 0) + len(values)
    print(
        f"2,500-cell intersection, {args.rows:,} rows a sample (about {args.rows // 2500} a cell), "
        f"{args.reps} samples, nominal 95 %"
    )
    for kind, values in shares.items():
        share = float(np.mean(values))
        se = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")
        print(f"  {kind:22s}: {share * 100:5.1f} % of {counted[kind]:,} intervals cover (se {se * 100:.2f})")
    print(f"  intervals missing (a defined value without an interval): {missing}")


if __name__ == "__main__":
    main()
