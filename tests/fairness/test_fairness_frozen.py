"""The whole fairness result, to the last bit, against a frozen copy (issue 13, point 2).

Speed work on the numeric core (arrays instead of records, batched searches, lazy records) must not move a
single number. Each of 48 configurations (binary with and without scores or labels, multiclass, regression, a
count table; weights; the three reference rules; every intersection mode; missing values; tiny groups; more
groups than the pairwise searches take in full) is computed from a seeded random table and its JSON, as
audit.json holds it, is compared with the frozen copy: its SHA-256 in ``frozen_results.json`` (the whole texts,
some 35 MB, would not belong in the repository; ``--write --full DIR`` writes them out to compare by hand).

A difference means a number, a note or a record changed. If that is intended, regenerate the copy with
``python tests/fairness/test_fairness_frozen.py --write`` and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import sys
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from governance.audit.fairness import build_count_table, compute_fairness, compute_fairness_from_counts

FROZEN = Path(__file__).with_name("frozen_results.json")
TASKS = ("binary", "scores", "no-labels", "multiclass", "regression", "counts")
REFERENCES = ("largest", "named", "highest")
INTERSECTIONS = ("all", "pairs", "none", "full")


def _columns(rng: np.random.Generator, n: int, sizes: tuple[int, ...], missing: bool) -> pd.DataFrame:
    """Sensitive columns with unequal level shares (some levels tiny), optionally with missing values."""
    frame = {}
    for j, k in enumerate(sizes):
        shares = rng.dirichlet(np.full(k, 0.7))
        values = np.array([f"c{j}-{i}" for i in range(k)], dtype=object)[rng.choice(k, n, p=shares)]
        if missing and j == len(sizes) - 1:
            values[rng.random(n) < 0.04] = None
        frame[f"col{j}"] = values
    return pd.DataFrame(frame)


def configurations() -> list[tuple[str, dict[str, Any]]]:
    """(name, settings) of every frozen case: a product of task x weights x reference, then a few large ones."""
    cases = []
    for number, (task, weighted, reference) in enumerate(product(TASKS, (False, True), REFERENCES)):
        cases.append(
            (
                f"{number:02d}-{task}-{'weighted' if weighted else 'plain'}-{reference}",
                {
                    "task": task,
                    "weighted": weighted,
                    "reference": reference,
                    "intersections": INTERSECTIONS[number % 4],
                    "missing": number % 3 == 1,
                    "sizes": ((2, 3), (3, 4, 2), (5, 2))[number % 3],
                    "rows": (150, 700, 2000)[number % 3],
                    "level": (0.95, 0.9)[number % 2],
                    "seed": number,
                },
            )
        )
    for number, task in enumerate(("binary", "scores", "multiclass", "regression", "counts", "no-labels")):
        reference = REFERENCES[number % 3]
        name = f"{36 + number:02d}-{task}-many-groups-{reference}"
        settings = {
            "task": task,
            "weighted": number % 2 == 1,
            "reference": reference,
            "intersections": "all",
            "missing": number % 2 == 0,
            "sizes": (12, 5, 4),  # 240 cells: more than the pairwise searches take in full
            "rows": 6000,
            "level": 0.95,
            "seed": 100 + number,
        }
        cases.append((name, settings))
    return cases


def compute(settings: dict[str, Any]) -> str:
    """The case's result as JSON (the text audit.json holds for it)."""
    rng = np.random.default_rng(settings["seed"])
    n, task = settings["rows"], settings["task"]
    sensitive = _columns(rng, n, settings["sizes"], settings["missing"])
    tilt = sum(sensitive[c].fillna("").str.len().to_numpy() % 3 for c in sensitive.columns) * 0.05
    y_true = (rng.random(n) < 0.25 + tilt).astype(np.int64)
    scores = np.clip(0.45 * y_true + 0.6 * rng.random(n), 0.0, 1.0)
    y_pred = (scores > 0.5).astype(np.int64)
    options: dict[str, Any] = {
        "reference": settings["reference"],
        "intersections": settings["intersections"],
        "confidence_level": settings["level"],
        "n_boot": 30,
        "seed": settings["seed"],
        "min_group_size": 20,
    }
    if settings["reference"] == "named":
        options["reference_groups"] = {c: sorted(sensitive[c].dropna().unique())[0] for c in sensitive}
    weights = rng.uniform(0.3, 3.0, n) if settings["weighted"] else None
    columns: dict[str, Any] = {
        "y_pred": y_pred,
        "y_true": y_true,
        "sensitive": sensitive,
        "sample_weight": weights,
    }
    if task == "scores":
        columns["scores"] = scores
        options["ll144_rate"] = "scoring" if settings["seed"] % 2 else "selection"
    elif task == "no-labels":
        columns["y_true"] = None
    elif task == "multiclass":
        third = np.where(rng.random(n) < 0.3, 2, 0)
        columns["y_true"] = np.where(y_true == 1, 1, third)
        columns["y_pred"] = np.where(y_pred == 1, 1, np.where(rng.random(n) < 0.3, 2, 0))
    elif task == "regression":
        columns["y_true"] = scores * 10 + rng.normal(0, 1, n)
        columns["y_pred"] = scores * 9
    if task == "counts":
        table = build_count_table(**columns)
        return compute_fairness_from_counts(table, **options).model_dump_json()
    return compute_fairness(**columns, **options).model_dump_json()


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="module")
def frozen() -> dict[str, str]:
    return dict(json.loads(FROZEN.read_text(encoding="utf-8")))


@pytest.mark.parametrize(("name", "settings"), configurations(), ids=[name for name, _ in configurations()])
def test_result_equals_the_frozen_copy(name: str, settings: dict[str, Any], frozen: dict[str, str]) -> None:
    assert digest(compute(settings)) == frozen[name], (
        f"{name}: the result changed; compare it with the previous commit's "
        "(python tests/fairness/test_fairness_frozen.py --write --full DIR on both)"
    )


def write(full: Path | None) -> None:
    """Regenerate the frozen copy from the code as it is now (and the whole texts into ``full``)."""
    results = {name: compute(settings) for name, settings in configurations()}
    FROZEN.write_text(
        json.dumps({k: digest(v) for k, v in results.items()}, indent=1) + "\n", encoding="utf-8"
    )
    print(f"{FROZEN}: {len(results)} results")
    if full is not None:
        full.mkdir(parents=True, exist_ok=True)
        for name, text in results.items():
            (full / f"{name}.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] != ["--write"] or len(arguments) not in (1, 3) or arguments[1:2] not in ([], ["--full"]):
        raise SystemExit("usage: python tests/fairness/test_fairness_frozen.py --write [--full DIR]")
    write(Path(arguments[2]) if len(arguments) == 3 else None)
