"""How often the intervals cover the truth, and how often verdicts are wrong, simulated from known populations.

Runs every cell twice: with this checkout, and with the baseline commit's percentile bootstrap (checked out
with ``git worktree`` into a temporary folder), and prints the two side by side.

    .venv/bin/python benchmarks/verdicts/run.py                 # 1,000 repetitions per cell (long: about an hour)
    .venv/bin/python benchmarks/verdicts/run.py --reps 200      # a quicker look
    .venv/bin/python benchmarks/verdicts/run.py --baseline none # this checkout only

Every repetition draws fresh rows from fixed group rates (seeded), runs ``compute_fairness`` and, for verdict
cells, judges the result with a shipped preset through ``evaluate_policy``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BASELINE = "fc303e4"  # the last commit with percentile-bootstrap verdicts
ROOT = Path(__file__).resolve().parents[2]

# name -> (description, kind, settings); rates per group; n per group
COVERAGE_CELLS: list[dict[str, Any]] = []
for n in (30, 100, 1000):
    COVERAGE_CELLS += [
        {"name": f"rate p=0.3 n={n}", "kind": "rate", "rates": [0.3, 0.5], "n": n},
        {
            "name": f"ratio to named reference, 2 groups n={n}",
            "kind": "named_ratio",
            "rates": [0.4, 0.5],
            "n": n,
        },
        {
            "name": f"ratio to named reference, 5 groups n={n}",
            "kind": "named_ratio",
            "rates": [0.4, 0.5, 0.45, 0.5, 0.35],
            "n": n,
        },
        {"name": f"impact ratio, 2 groups at 0.8 n={n}", "kind": "impact", "rates": [0.4, 0.5], "n": n},
        {
            "name": f"impact ratio, 5 groups n={n}",
            "kind": "impact",
            "rates": [0.4, 0.5, 0.5, 0.45, 0.5],
            "n": n,
        },
        {"name": f"impact ratio, 5 equal groups n={n}", "kind": "impact", "rates": [0.4] * 5, "n": n},
        {
            "name": f"impact ratio, race x sex (5x2) n={n}",
            "kind": "impact_x",
            "rates": [0.4, 0.5, 0.5, 0.45, 0.5],
            "n": n,
        },
        {"name": f"TPR ratio between groups, 5 equal n={n}", "kind": "tpr_ratio", "rates": [0.7] * 5, "n": n},
        {
            "name": f"TPR ratio between groups, one low of 5 n={n}",
            "kind": "tpr_ratio",
            "rates": [0.7, 0.7, 0.7, 0.7, 0.56],
            "n": n,
        },
        {"name": f"FPR difference, 2 equal n={n}", "kind": "fpr_diff", "rates": [0.2, 0.2], "n": n},
        {"name": f"FPR difference, 5 equal n={n}", "kind": "fpr_diff", "rates": [0.2] * 5, "n": n},
        {
            "name": f"FPR difference, one low of 5 n={n}",
            "kind": "fpr_diff",
            "rates": [0.3, 0.3, 0.3, 0.3, 0.2],
            "n": n,
        },
        {"name": f"AUC per group n={n}", "kind": "auc", "rates": [0.5, 0.5], "n": n},
    ]

VERDICT_CELLS: list[dict[str, Any]] = [
    # (true value on the bound) -> FAIL at most 2.5 %
    {
        "name": "four-fifths, one group exactly at 0.8, 5 groups of 1,000",
        "kind": "v_impact",
        "rates": [0.4, 0.5, 0.5, 0.5, 0.5],
        "n": 1000,
        "preset": "four-fifths",
        "rule": "four-fifths-selection",
        "goal": "fail<=2.5",
    },
    {
        "name": "four-fifths at 0.8, race x sex (5x2) of 300",
        "kind": "v_impact_x",
        "rates": [0.4, 0.5, 0.5, 0.4, 0.5],
        "n": 300,
        "preset": "four-fifths",
        "rule": "four-fifths-selection",
        "goal": "fail<=2.5",
    },
    {
        "name": "equalized odds, FPR gap exactly 0.1, 5 groups of 1,000",
        "kind": "v_eo",
        "rates": [0.3, 0.3, 0.3, 0.3, 0.2],
        "n": 1000,
        "preset": "equalized-odds",
        "rule": "equalized-odds",
        "goal": "fail<=2.5",
    },
    {
        "name": "FPR gap rule exactly at 0.1, 5 groups of 1,000",
        "kind": "v_eo",
        "rates": [0.3, 0.3, 0.3, 0.3, 0.2],
        "n": 1000,
        "preset": "equalized-odds",
        "rule": "fpr-gap",
        "goal": "fail<=2.5",
    },
    # truly fair, 5 groups of 100 -> FAIL at most 2.5 % under every preset
    {
        "name": "fair model, 5 groups of 100: four-fifths",
        "kind": "v_impact",
        "rates": [0.4] * 5,
        "n": 100,
        "preset": "four-fifths",
        "rule": "four-fifths-selection",
        "goal": "fail<=2.5",
    },
    {
        "name": "fair model, 5 groups of 100: FPR gap",
        "kind": "v_eo",
        "rates": [0.3] * 5,
        "n": 100,
        "preset": "equalized-odds",
        "rule": "fpr-gap",
        "goal": "fail<=2.5",
    },
    {
        "name": "fair model, 5 groups of 100: equalized odds",
        "kind": "v_eo",
        "rates": [0.3] * 5,
        "n": 100,
        "preset": "equalized-odds",
        "rule": "equalized-odds",
        "goal": "fail<=2.5",
    },
    {
        "name": "fair model, 5 groups of 100: equal opportunity (default)",
        "kind": "v_eo",
        "rates": [0.3] * 5,
        "n": 100,
        "preset": "default",
        "rule": "equal-opportunity",
        "goal": "fail<=2.5",
    },
    # power
    {
        "name": "impact ratio 0.6, 5 groups of 1,000",
        "kind": "v_impact",
        "rates": [0.3, 0.5, 0.5, 0.5, 0.5],
        "n": 1000,
        "preset": "four-fifths",
        "rule": "four-fifths-selection",
        "goal": "fail>=95",
    },
    {
        "name": "fair model, 5 groups of 1,000 selected at 0.3: four-fifths passes",
        "kind": "v_impact",
        "rates": [0.3] * 5,
        "n": 1000,
        "preset": "four-fifths",
        "rule": "four-fifths-selection",
        "goal": "pass>=80",
        "ceiling": True,
    },
    {
        "name": "fair model, 5 groups of 1,000 selected at 0.4: four-fifths passes",
        "kind": "v_impact",
        "rates": [0.4] * 5,
        "n": 1000,
        "preset": "four-fifths",
        "rule": "four-fifths-selection",
        "goal": "pass>=80",
        "ceiling": True,
    },
    {
        "name": "fair model, 5 groups of 1,000 selected at 0.5: four-fifths passes",
        "kind": "v_impact",
        "rates": [0.5] * 5,
        "n": 1000,
        "preset": "four-fifths",
        "rule": "four-fifths-selection",
        "goal": "pass>=80",
        "ceiling": True,
    },
    # a violation of twice the margin must not pass
    {
        "name": "FPR gap 0.2 (twice the margin), ~8 negatives in one group of 1,000",
        "kind": "v_eo_fewneg",
        "rates": [0.1, 0.1, 0.1, 0.1, 0.3],
        "n": 1000,
        "preset": "equalized-odds",
        "rule": "fpr-gap",
        "goal": "pass<=2.5",
    },
    {
        "name": "impact ratio 0.6 (twice the margin), 5 groups of 100",
        "kind": "v_impact",
        "rates": [0.3, 0.5, 0.5, 0.5, 0.5],
        "n": 100,
        "preset": "four-fifths",
        "rule": "four-fifths-selection",
        "goal": "pass<=2.5",
    },
]


# ---------------------------------------------------------------- worker (runs inside one checkout)


def _draw(cell: dict[str, Any], rng: Any) -> dict[str, Any]:
    """Rows for one repetition: selection rates by group, or labels with TPR/FPR by group."""
    import numpy as np
    import pandas as pd

    rates, n, kind = cell["rates"], cell["n"], cell["kind"]
    groups = np.repeat(np.arange(len(rates)), n)
    if kind in (
        "impact_x",
        "v_impact_x",
    ):  # race (5) x sex (2): each race split evenly, same rate in both sexes
        sex = np.tile(np.array(["f", "m"]), groups.shape[0] // 2 + 1)[: groups.shape[0]]
        race = np.array([f"r{g}" for g in groups])
        pred = (rng.random(groups.shape[0]) < np.asarray(rates)[groups]).astype(int)
        return {"sensitive": pd.DataFrame({"race": race, "sex": sex}), "y_pred": pred, "y_true": None}
    names = np.array([f"g{g}" for g in groups])
    frame = pd.DataFrame({"group": names})
    if kind in ("rate", "named_ratio", "impact", "v_impact"):
        pred = (rng.random(groups.shape[0]) < np.asarray(rates)[groups]).astype(int)
        return {"sensitive": frame, "y_pred": pred, "y_true": None}
    base = 0.5 if kind != "v_eo_fewneg" else 0.992
    y_true = (rng.random(groups.shape[0]) < base).astype(int)
    if kind == "v_eo_fewneg":  # only the last group has few negatives; the others have plenty
        y_true[groups != len(rates) - 1] = (rng.random(int((groups != len(rates) - 1).sum())) < 0.5).astype(
            int
        )
    r = np.asarray(rates)[groups]
    if kind == "tpr_ratio":  # rates are TPRs; FPR 0.2 everywhere
        p = np.where(y_true == 1, r, 0.2)
    elif kind == "auc":
        scores = np.clip(rng.normal(np.where(y_true == 1, 0.6, 0.4), 0.2), 0, 1)
        return {"sensitive": frame, "y_pred": (scores > 0.5).astype(int), "y_true": y_true, "scores": scores}
    else:  # rates are FPRs; TPR 0.7 everywhere
        p = np.where(y_true == 1, 0.7, r)
    pred = (rng.random(groups.shape[0]) < p).astype(int)
    return {"sensitive": frame, "y_pred": pred, "y_true": y_true}


def _truth(cell: dict[str, Any]) -> float:
    import numpy as np

    rates, kind = np.asarray(cell["rates"], dtype=float), cell["kind"]
    if kind == "rate":
        return float(rates[0])
    if kind == "named_ratio":
        return float(rates[0] / rates[1])
    if kind in ("impact", "impact_x"):
        return float(rates[0] / rates.max())
    if kind == "tpr_ratio":
        return float(rates.min() / rates.max())
    if kind == "fpr_diff":
        return float(rates.max() - rates.min())
    if kind == "auc":
        from scipy.stats import norm

        return float(norm.cdf(0.2 / (0.2 * np.sqrt(2))))  # unclipped normal scores; clipping moves it < 0.002
    raise ValueError(kind)


def _estimate(result: Any, cell: dict[str, Any]) -> Any:
    kind = cell["kind"]
    attribute = result.attributes[-1] if kind == "impact_x" else result.attributes[0]
    if kind == "rate":
        return next(g for g in attribute.groups if g.group == "g0").metrics["selection_rate"]
    if kind == "named_ratio":
        return next(
            c for c in attribute.to_reference if c.metric == "selection_rate" and c.group == "g0"
        ).ratio
    if kind in ("impact", "impact_x"):
        first = "r0 × f" if kind == "impact_x" else "g0"
        row = next(r for r in attribute.ll144.rows if r.category == first)
        return (row.impact_ratio, row.impact_ratio_low, row.impact_ratio_high)
    if kind == "tpr_ratio":
        return next(s for s in attribute.between_groups if s.metric == "tpr").ratio
    if kind == "fpr_diff":
        return next(s for s in attribute.between_groups if s.metric == "fpr").difference
    if kind == "auc":
        return next(g for g in attribute.groups if g.group == "g0").metrics["auc"]
    raise ValueError(kind)


def _worker(cells: list[dict[str, Any]], reps: int, seed: int) -> list[dict[str, Any]]:
    import numpy as np

    from governance.audit.fairness import compute_fairness
    from governance.rules.evaluate import evaluate_policy
    from governance.rules.load import load_policy

    out = []
    for index, cell in enumerate(cells):
        rng = np.random.default_rng([seed, index])
        verdict = cell["kind"].startswith("v_")
        policy = load_policy(cell["preset"]).policy if verdict else None
        counts = {"pass": 0, "fail": 0, "inconclusive": 0, "covered": 0, "defined": 0}
        for _ in range(reps):
            data = _draw(cell, rng)
            arguments: dict[str, Any] = {
                "y_pred": data["y_pred"],
                "sensitive": data["sensitive"],
                "n_boot": 1000 if cell["kind"] != "auc" else 400,
                "seed": int(rng.integers(1 << 30)),
            }
            if data.get("y_true") is not None:
                arguments["y_true"] = data["y_true"]
            if data.get("scores") is not None:
                arguments["scores"] = data["scores"]
            if cell["kind"] == "named_ratio":
                arguments.update(reference="named", reference_groups={"group": "g1"})
            if policy is not None:
                arguments["min_group_size"] = policy.min_group_size
            result = compute_fairness(**arguments)
            if verdict:
                assert policy is not None
                judged = evaluate_policy(policy, result, policy_path="-", policy_sha256="-")
                status = next(r.status for r in judged.rules if r.rule_id == cell["rule"])
                counts[status if status in counts else "inconclusive"] += 1
                continue
            found = _estimate(result, cell)
            _value, low, high = found if isinstance(found, tuple) else (found.value, found.low, found.high)
            if low is None or high is None:
                continue
            counts["defined"] += 1
            counts["covered"] += int(low - 1e-12 <= _truth(cell) <= high + 1e-12)
        out.append({"name": cell["name"], "reps": reps, **counts})
        print(json.dumps(out[-1]), file=sys.stderr, flush=True)
    return out


# ---------------------------------------------------------------- driver


def _run(checkout: Path, cells: list[dict[str, Any]], reps: int, seed: int) -> list[dict[str, Any]]:
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "import run; print(json.dumps(run._worker(json.loads(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))))"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(Path(__file__).parent),
            str(checkout),
            json.dumps(cells),
            str(reps),
            str(seed),
        ],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _format(cell: dict[str, Any], row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    if not cell["kind"].startswith("v_"):
        if not row["defined"]:
            return "no interval"
        missing = row["reps"] - row["defined"]
        return f"{100 * row['covered'] / row['defined']:.1f} %" + (f" ({missing} w/o)" if missing else "")
    reps = row["reps"]
    return f"F {100 * row['fail'] / reps:.1f} / P {100 * row['pass'] / reps:.1f} / I {100 * row['inconclusive'] / reps:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--baseline", default=BASELINE, help="commit with the old method, or 'none'")
    parser.add_argument("--only", choices=["coverage", "verdicts"], default=None)
    parser.add_argument("--cells", default=None, help="only the cells whose name contains this text")
    args = parser.parse_args()
    cells = (COVERAGE_CELLS if args.only != "verdicts" else []) + (
        VERDICT_CELLS if args.only != "coverage" else []
    )
    cells = [cell for cell in cells if args.cells is None or args.cells in cell["name"]]
    new = _run(ROOT, cells, args.reps, args.seed)
    old: list[dict[str, Any]] | None = None
    if args.baseline != "none":
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "baseline"
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(target), args.baseline],
                check=True,
            )
            try:
                old = _run(target, cells, args.reps, args.seed)
            finally:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(target)], check=False
                )
    width = max(len(c["name"]) for c in cells)
    print(
        f"{args.reps} repetitions per cell, seed {args.seed}. Coverage of nominal 95 % intervals (goal 93-97 %);"
    )
    print("verdict cells: share of runs where the rule FAILS / PASSES / is INCONCLUSIVE.\n")
    print(f"{'cell'.ljust(width)} | {'goal':9} | {'baseline ' + args.baseline:28} | now")
    for i, cell in enumerate(cells):
        goal = cell.get("goal", "93-97 %")
        before = _format(cell, old[i] if old else None)
        print(f"{cell['name'].ljust(width)} | {goal:9} | {before:28} | {_format(cell, new[i])}")
    _print_ceilings([cell for cell in cells if cell.get("ceiling")], args.reps, args.seed)


def _print_ceilings(cells: list[dict[str, Any]], reps: int, seed: int) -> None:
    """The pass rate of an idealised test that knows every group's true variance, for the fair-model cells.

    It passes when every pair's one-sided 97.5 % lower bound of the log ratio clears log(0.8), the same
    rule at the same level with no estimation error in the standard errors. A test that may fail a model
    sitting on the bound at most 2.5 % of the time cannot pass a fair one much more often than this.
    """
    import numpy as np

    if not cells:
        return
    print("\nCeiling for the fair-model cells: an idealised test that knows the true variances")
    for index, cell in enumerate(cells):
        rng = np.random.default_rng([seed, 9000 + index])
        rates, n = np.asarray(cell["rates"], dtype=float), cell["n"]
        k = rng.binomial(n, rates, size=(reps, rates.shape[0]))
        with np.errstate(divide="ignore"):
            log_rate = np.log(k / n)
        se = np.sqrt(2 * (1 - rates[0]) / (n * rates[0]))
        spread_seen = log_rate.max(axis=1) - log_rate.min(axis=1)
        passed = float(np.mean(spread_seen <= -np.log(0.8) - 1.959964 * se))
        print(f"  {cell['name']}: passes {100 * passed:.1f} %")


if __name__ == "__main__":
    main()
