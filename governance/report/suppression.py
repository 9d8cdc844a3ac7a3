"""Small-cell suppression for published tables, with complementary suppression.

A table that shows groups of fewer than ``k`` people can identify them, so those cells are masked (primary
suppression). Masking one cell is not enough when the total is published: total minus the visible cells gives
it back. So in every line of the table whose total is known (the whole table for one attribute; each row and
column of an intersection), more cells are masked until the line has no masked cell, or at least two whose sum
is at least ``k`` (complementary suppression). Masked rows hide every number of that row (n, rates, ratios),
because rate times n would give the count back.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, TypeVar

Key = TypeVar("Key", bound=Hashable)


def suppress(counts: Mapping[Key, int], *, k: int) -> set[Key]:
    """Keys to mask in a one-way table of ``counts`` whose total is published."""
    cells: dict[tuple[Any, ...], int] = {(key,): n for key, n in counts.items()}
    return {key[0] for key in suppress_grid(cells, k=k)}


def suppress_grid(cells: Mapping[tuple[Any, ...], int], *, k: int) -> set[tuple[Any, ...]]:
    """Cells to mask in a table keyed by tuples of levels (one level per dimension).

    Every line (cells that share all levels but one) is assumed to have a published total, as the marginal
    tables of each attribute are published too.
    """
    if k <= 1 or not cells:
        return set()
    masked = {key for key, n in cells.items() if n < k}
    dimensions = len(next(iter(cells)))
    lines: list[list[tuple[Any, ...]]] = []
    for free in range(dimensions):
        grouped: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        for key in cells:
            grouped.setdefault(key[:free] + key[free + 1 :], []).append(key)
        lines.extend(grouped.values())
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [key for key in line if key in masked]
            if not hidden:
                continue
            hidden_sum = sum(cells[key] for key in hidden)
            # every group has at least one person, so m masked cells summing to m would all be pinned at 1
            while len(hidden) < 2 or hidden_sum < k or hidden_sum <= len(hidden):
                visible = sorted(
                    (key for key in line if key not in masked), key=lambda key: (cells[key], str(key))
                )
                if not visible:
                    break
                masked.add(visible[0])
                hidden.append(visible[0])
                hidden_sum += cells[visible[0]]
                changed = True
        if not changed and dimensions > 1:
            # Rows and columns can pin a cell together even when each line alone looks safe: ask a linear
            # programme, and mask the smallest visible cell beside any cell it pins down.
            for key in pinned_cells(cells, masked, k=k):
                beside = [other for line in lines if key in line for other in line if other not in masked]
                if beside:
                    masked.add(min(beside, key=lambda other: (cells[other], str(other))))
                    changed = True
                    break
    return masked


def pinned_cells(
    cells: Mapping[tuple[Any, ...], int], masked: set[tuple[Any, ...]], *, k: int
) -> list[tuple[Any, ...]]:
    """Masked cells whose value follows from the published totals (lines of at least ``k`` people).

    Every listed group has at least one person, so each unknown is bounded below by 1; a cell is pinned when
    its smallest and largest possible values are equal.
    """
    unknown = sorted(masked, key=str)
    if not unknown:
        return []
    import numpy as np
    from scipy.optimize import linprog

    index = {key: position for position, key in enumerate(unknown)}
    rows: list[Any] = []
    totals: list[int] = []
    dimensions = len(unknown[0])
    for free in range(dimensions):
        grouped: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        for key in cells:
            grouped.setdefault(key[:free] + key[free + 1 :], []).append(key)
        for line in grouped.values():
            if sum(cells[key] for key in line) < k:
                continue  # a total under k is a small group of its own, masked where it is published
            row = np.zeros(len(unknown))
            for key in line:
                if key in index:
                    row[index[key]] = 1.0
            if row.any():
                rows.append(row)
                totals.append(sum(cells[key] for key in line if key in index))
    if not rows:
        return []
    matrix, bounds = np.array(rows), np.array(totals, dtype=float)
    pinned = []
    for key, position in index.items():
        objective = np.zeros(len(unknown))
        objective[position] = 1.0
        low = linprog(objective, A_eq=matrix, b_eq=bounds, bounds=(1, None))
        high = linprog(-objective, A_eq=matrix, b_eq=bounds, bounds=(1, None))
        if low.status == 0 and high.status == 0 and -high.fun - low.fun < 0.5:
            pinned.append(key)
    return pinned


def is_safe(cells: Mapping[tuple[Any, ...], int], masked: set[tuple[Any, ...]], *, k: int) -> bool:
    """True when no line of the table reveals a masked cell (for tests and self-checks)."""
    if k <= 1:
        return True
    if any(n < k and key not in masked for key, n in cells.items()):
        return False
    dimensions = len(next(iter(cells))) if cells else 0
    for free in range(dimensions):
        grouped: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        for key in cells:
            grouped.setdefault(key[:free] + key[free + 1 :], []).append(key)
        for line in grouped.values():
            hidden = [key for key in line if key in masked]
            if len(hidden) == len(line):
                continue
            hidden_sum = sum(cells[key] for key in hidden)
            if hidden and (len(hidden) == 1 or hidden_sum < k or hidden_sum <= len(hidden)):
                return False
    return True
