"""After go-live, simulated from known populations: coverage of the change intervals of ``audit diff`` and of the
window intervals of ``monitor``, the false-alert rate of a year of stable daily windows, and the cost of a year of
daily windows against one audit of the same rows.

    .venv/bin/python benchmarks/monitoring/run.py                 # every part (a few minutes on 2 cores)
    .venv/bin/python benchmarks/monitoring/run.py --parts diff --reps 400

Coverage goal: 93-97 % at nominal 95 %. False alerts: at most 5 % of simulated years.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd

from governance.audit.fairness import compute_fairness
from governance.compare.diff import compare_audits


def _fairness(rates: list[float], sizes: list[int], rng: np.random.Generator) -> Any:
    groups = np.repeat([f"g{i}" for i in range(len(rates))], sizes)
    pred = np.concatenate([rng.random(n) < p for p, n in zip(rates, sizes, strict=True)]).astype(int)
    return compute_fairness(
        y_pred=pred, sensitive=pd.DataFrame({"group": groups}), n_boot=0, intersections=False, min_group_size=1
    )


def _audit(fairness: Any, audit_id: str) -> Any:
    """A minimal AuditResult around a fairness result (the diff reads only these parts)."""
    from governance.results.audit import AuditResult, DataInfo, ModelInfo, PolicyVerdict, Provenance

    return AuditResult(
        audit_id=audit_id,
        model=ModelInfo(name="m", version="1", kind="predictions"),
        data=DataInfo(path="d.csv", sha256="0" * 64, n_rows=fairness.n_rows, target=None, sensitive=["group"], features=[]),
        fairness=fairness,
        policy=PolicyVerdict(
            policy_name="p", policy_path="p.yaml", policy_sha256="p", verdict="reported", strict=False,
            exit_code=0, summary="", rules=[],
        ),
        provenance=Provenance(
            tool_version="0", library_versions={}, seed=0, created_at="2026-01-01T00:00:00Z", command_line="",
            model_sha256=None, data_sha256="0" * 64, policy_sha256="p",
        ),
    )


DIFF_CELLS = [
    # name, rates before, rates after, sizes before, sizes after
    ("no change, n=100 per group", [0.5, 0.3], [0.5, 0.3], [100, 100], [100, 100]),
    ("rate of g1 drops 0.5 -> 0.4, n=300", [0.6, 0.5], [0.6, 0.4], [300, 300], [300, 300]),
    ("small groups, n=40 and 200", [0.7, 0.2], [0.7, 0.3], [200, 40], [200, 40]),
    ("large, n=2000 and 500", [0.45, 0.35], [0.45, 0.30], [2000, 500], [2000, 500]),
    ("rare outcome, p=0.05, n=300", [0.05, 0.08], [0.05, 0.05], [300, 300], [300, 300]),
]


def _truth(before: list[float], after: list[float]) -> dict[str, float]:
    return {
        "rate g1": after[1] - before[1],
        "ratio g1 / g0": after[1] / after[0] - before[1] / before[0],
        "difference g1 - g0": (after[1] - after[0]) - (before[1] - before[0]),
    }


def _found(diff: Any) -> dict[str, Any]:
    pick = {("value", "g1"): "rate g1", ("ratio_to_reference", "g1"): "ratio g1 / g0", ("difference_to_reference", "g1"): "difference g1 - g0"}
    out = {}
    for m in diff.metrics:
        key = pick.get((m.quantity, m.group))
        if key is not None and m.metric == "selection_rate" and m.change is not None and m.reference in (None, "g0"):
            out[key] = m.change
    return out


def diff_coverage(reps: int, seed: int) -> None:
    print(f"audit diff: coverage of the change interval (nominal 95 %, {reps} repetitions per cell)")
    rng = np.random.default_rng(seed)
    for name, before, after, n_before, n_after in DIFF_CELLS:
        truth = _truth(before, after)
        hits = {key: 0 for key in truth}
        total = {key: 0 for key in truth}
        for rep in range(reps):
            a = _audit(_fairness(before, n_before, rng), f"a{rep}")
            b = _audit(_fairness(after, n_after, rng), f"b{rep}")
            found = _found(compare_audits(a, b, seed=rep, draws=2000))
            for key, estimate in found.items():
                if estimate.low is None or estimate.high is None:
                    continue
                total[key] += 1
                hits[key] += int(estimate.low <= truth[key] <= estimate.high)
        shown = ", ".join(f"{key} {100 * hits[key] / max(total[key], 1):.1f} %" for key in truth)
        print(f"  {name}: {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="*", default=["diff", "windows", "null", "speed"])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args()
    started = time.perf_counter()
    if "diff" in args.parts:
        diff_coverage(args.reps, args.seed)
    extra = globals().get("more_parts")
    if extra is not None:
        extra(args)
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
