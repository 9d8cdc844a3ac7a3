"""Many groups at the cost of counting them, second part (issue 13, point 2): what the time and memory go to.

No clocks: the searches are measured by how often they evaluate the score statistic, and writing audit.json
by the peak memory Python traces while it writes, against the size of what it writes. Both keep every number
and every byte as before: the fast search equals the plain bisection to the bit (edge cases included), and
the file written a piece at a time equals ``model_dump_json``.
"""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from governance import intervals
from governance.audit.fairness import compute_fairness
from governance.intervals import _Score, ratio_end_minima, ratio_ends, z_for
from governance.results.audit import AuditResult
from governance.results.fairness import FairnessResult

AUDITS = Path(__file__).resolve().parents[2] / "audits"


def _tables(rng: np.random.Generator, size: int) -> tuple[np.ndarray, ...]:
    """Counts of every kind a search meets: tiny and huge groups, rates of 0 and 1, Kish (weighted) counts."""
    kind = rng.integers(0, 4, size)
    n1 = np.select(
        [kind == 0, kind == 1, kind == 2],
        [
            rng.integers(1, 60, size),
            rng.integers(1, 1_000_000, size),
            np.exp(rng.uniform(0, 14, size)).round(),
        ],
        np.exp(rng.uniform(-1, 10, size)),
    ).astype(np.float64)
    n2 = np.where(kind == 3, np.exp(rng.uniform(-1, 10, size)), rng.integers(1, 200_000, size)).astype(float)
    k1 = np.where(kind == 3, n1 * rng.random(size), np.round(n1 * rng.beta(0.5, 0.5, size)))
    k2 = np.where(kind == 3, n2 * rng.random(size), np.round(n2 * rng.beta(0.5, 0.5, size)))
    edge = rng.random(size)
    k1 = np.select([edge < 0.04, edge < 0.08], [0.0, n1], k1)
    k2 = np.select([edge > 0.96, edge > 0.92], [0.0, n2], k2)
    z = z_for(0.95, 1) * np.ones(size)
    z = np.where(rng.random(size) < 0.3, z_for(0.95, 5_000), z)
    return k1, n1, k2, n2, z * z, rng.random(size) < 0.5


def _bisected(
    k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray, critical: np.ndarray, low: np.ndarray
) -> np.ndarray:
    """``ratio_ends`` by the plain 36-step bisection (how every end was found before)."""
    defined = (n1 > 0) & (n2 > 0) & ~((k1 <= 0) & (k2 <= 0))
    a, b, c, d = (np.where(defined, x, 1.0) for x in (k1, n1, k2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.log(np.clip((a / b) / (c / d), np.exp(-35.0), np.exp(35.0)))
    inside, outside = centre.copy(), np.where(low, -35.0, 35.0)
    intervals._search(inside, outside, _Score(a, b, c, d), critical, intervals._BISECTION_STEPS)
    end = np.where(low & (k1 <= 0), 0.0, np.exp(inside))
    end = np.where(~low & (k2 <= 0), np.inf, end)
    return np.where(defined, end, np.nan)


def test_the_fast_search_ends_where_the_bisection_does_to_the_bit() -> None:
    rng = np.random.default_rng(13)
    for _ in range(4):
        tables = _tables(rng, 60_000)
        assert np.array_equal(ratio_ends(*tables).view(np.int64), _bisected(*tables).view(np.int64)), (
            "an end moved"
        )


def test_the_smallest_ends_of_spreads_are_the_bisections_smallest() -> None:
    rng = np.random.default_rng(14)
    for _ in range(10):
        owners = int(rng.integers(1, 30))
        owner = np.repeat(np.arange(owners), rng.integers(1, 2_000, owners))
        k1, n1, k2, n2, critical, _ = _tables(rng, owner.shape[0])
        low = (rng.random(owners) < 0.5)[owner]
        ends = _bisected(k1, n1, k2, n2, critical, low)
        expected = np.full(owners, np.nan)
        kept = ~np.isnan(ends)
        np.fmin.at(expected, owner[kept], ends[kept])
        found = ratio_end_minima(k1, n1, k2, n2, critical, low, owner, owners)
        assert np.array_equal(found.view(np.int64), expected.view(np.int64))


@contextmanager
def _evaluations() -> Iterator[list[int]]:
    """How many (table, theta) values the score statistic is evaluated at."""
    counted = [0]
    original = _Score.statistic

    def counting(self: _Score, theta: np.ndarray, work: Any = None) -> np.ndarray:
        counted[0] += int(np.size(theta))
        return original(self, theta, work)

    _Score.statistic = counting  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        _Score.statistic = original  # type: ignore[method-assign]


def test_a_score_interval_costs_a_third_of_the_bisections_evaluations() -> None:
    """Rates between 0 and 1 (the common case): the bisection evaluated the statistic 36 times per end."""
    rng = np.random.default_rng(15)
    size = 40_000
    n1, n2 = rng.integers(30, 3_000, size).astype(float), rng.integers(30, 300_000, size).astype(float)
    k1, k2 = np.round(n1 * rng.uniform(0.05, 0.95, size)), np.round(n2 * rng.uniform(0.05, 0.95, size))
    critical, low = np.full(size, z_for(0.95) ** 2), rng.random(size) < 0.5
    with _evaluations() as counted:
        ratio_ends(k1, n1, k2, n2, critical, low)
    assert counted[0] / size <= 12, counted[0] / size


def test_a_spread_over_thousands_of_pairs_searches_a_few_to_the_end() -> None:
    """The smallest end among 5,000 pairs: about one evaluation per pair, not seven to thirty-six."""
    rng = np.random.default_rng(16)
    size = 5_000
    n1, n2 = rng.integers(100, 500, size).astype(float), rng.integers(100, 500, size).astype(float)
    k1, k2 = np.round(n1 * rng.uniform(0.3, 0.5, size)), np.round(n2 * rng.uniform(0.3, 0.5, size))
    critical, low = np.full(size, z_for(0.95) ** 2), np.ones(size, dtype=bool)
    with _evaluations() as counted:
        ratio_end_minima(k1, n1, k2, n2, critical, low, np.zeros(size, dtype=np.int64), 1)
    assert counted[0] / size <= 2.5, counted[0] / size


def _many_groups(rows: int) -> FairnessResult:
    """Three columns of 20 x 8 x 4 levels (640 cells), one with missing values, weighted rows."""
    rng = np.random.default_rng(17)
    columns = {name: rng.integers(0, k, rows) for name, k in (("region", 20), ("age", 8), ("race", 4))}
    sensitive = pd.DataFrame({name: [f"{name}-{c:02d}" for c in codes] for name, codes in columns.items()})
    sensitive.loc[rng.random(rows) < 0.03, "race"] = None
    y_true = (rng.random(rows) < 0.2 + 0.01 * columns["region"]).astype(int)
    y_pred = np.where(rng.random(rows) < 0.8, y_true, 1 - y_true)
    return compute_fairness(
        y_true=y_true, y_pred=y_pred, sensitive=sensitive, sample_weight=rng.uniform(0.5, 2.0, rows), n_boot=0
    )


@pytest.mark.parametrize("indent", [2, 4])
def test_audit_json_written_a_piece_at_a_time_has_the_same_bytes(indent: int) -> None:
    from governance.results.streamed import write_json

    fairness = _many_groups(30_000)
    committed = next(AUDITS.glob("credit-risk/*/*/audit.json"))
    audit = AuditResult.model_validate_json(committed.read_text(encoding="utf-8"))
    for model in (fairness, audit, audit.model_copy(update={"fairness": fairness})):
        written = io.StringIO()
        write_json(model, written, indent=indent)
        assert written.getvalue() == model.model_dump_json(indent=indent)


def test_writing_audit_json_never_holds_all_its_records(tmp_path: Path) -> None:
    """Writing made every record and the whole text at once (1.8 times the memory of counting the data);
    a piece at a time it holds a small part of the file, and the result keeps its records for later."""
    from governance.results.streamed import write_json

    fairness = _many_groups(30_000)
    path = tmp_path / "audit.json"
    tracemalloc.start()
    try:
        with path.open("w", encoding="utf-8") as out:
            write_json(fairness, out)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = path.stat().st_size
    assert peak < 0.25 * size, (peak, size)  # model_dump_json: about 5 times the size
    assert all("groups" not in attribute.__dict__ for attribute in fairness.attributes)
    assert path.read_text(encoding="utf-8") == fairness.model_dump_json(indent=2)
